package dev.entente.node;

import dev.entente.config.ConfigException;
import dev.entente.config.ConfigExport;
import dev.entente.config.ConfigLoader;
import dev.entente.config.NodeConfig;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * The {@code entente} command line. Every command has {@code --help}; wrong usage says what was
 * wrong and exits with 2; a failure says what to do and exits with 1. Commands that read a node's
 * configuration take {@code --config FILE}, by default {@code node.yaml} in the current directory.
 */
@Command(name = "entente", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class, synopsisSubcommandLabel = "<command>",
        description = "A multi-master replication engine: every node writable, converging over TLS.",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:done", "1:failed: the message says why and what to do", "2:wrong usage: the message says what was wrong",
            "75:(entente node) stopped for its service manager to start it again: its store could not write"},
        footer = "%n'entente <command> --help' says more, with examples.",
        subcommands = {Cli.Init.class, Cli.NodeCommand.class, Cli.Cert.class, Cli.ConfigCommand.class, Cli.Status.class, Cli.Sync.class,
            Cli.Refresh.class, Cli.BackupCommand.class, Cli.Restore.class, Cli.Changes.class, Cli.ConsumerCommand.class, Cli.AgreementCommand.class, Cli.DemoCommand.class})
public final class Cli implements Callable<Integer> {
    private final PrintStream out;
    private final PrintStream err;
    @Spec
    private CommandLine.Model.CommandSpec spec;

    Cli(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    /** Runs one command as {@code entente} would, writing to the given streams; returns its exit code. */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        return execute(args, out, err, List.of());
    }

    /**
     * The commands the testkit jar carries, and what each does. They belong to the same command
     * tree; in this jar each says where it runs.
     */
    private record TestkitCommand(String name, String what) {
    }

    private static final List<TestkitCommand> TESTKIT_COMMANDS = List.of(
            new TestkitCommand("bench", "The benchmark workloads on real node processes over TLS, with the machine's raw limits."),
            new TestkitCommand("bench-engine", "The engine alone: RocksDB's raw rate, local commits and remote apply."),
            new TestkitCommand("simulate", "Replays a simulated scenario from its seed, or explores random ones."),
            new TestkitCommand("chaos", "Node processes under kill -9, SIGSTOP, cut links, full disks and taken ports; then every check."));

    /**
     * Runs one command of the tree that has {@code more} in it: the testkit's commands (each an
     * annotated command object or a {@link CommandLine}) take the place of those of the same name
     * that say where they run.
     */
    public static int execute(String[] args, PrintStream out, PrintStream err, List<Object> more) {
        return new Cli(out, err).run(args, more);
    }

    /** The standard output of the {@code entente} command that {@code spec} is part of. */
    public static PrintStream out(CommandLine.Model.CommandSpec spec) {
        return of(spec).out;
    }

    /** The standard error of the {@code entente} command that {@code spec} is part of. */
    public static PrintStream err(CommandLine.Model.CommandSpec spec) {
        return of(spec).err;
    }

    int run(String[] args, List<Object> more) {
        // Commands print their results; what they log is only for when something goes wrong.
        Logging.configure(err, ch.qos.logback.classic.Level.WARN);
        CommandLine cl = new CommandLine(this);
        Map<String, CommandLine> given = new LinkedHashMap<>();
        for (Object o : more) {
            CommandLine c = o instanceof CommandLine line ? line : new CommandLine(o);
            given.put(c.getCommandName(), c);
        }
        for (TestkitCommand t : TESTKIT_COMMANDS) {
            cl.addSubcommand(t.name(), given.containsKey(t.name()) ? given.remove(t.name()) : elsewhere(t.what()));
        }
        given.forEach(cl::addSubcommand);
        // Wide enough for the examples and the tables in the help on one line each.
        cl.setUsageHelpWidth(120);
        usageHeading(cl);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setParameterExceptionHandler((e, a) -> {
            err.println("entente: " + e.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(e, new PrintWriter(err, true));
            err.println("'" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' says more");
            return 2;
        });
        cl.setExecutionExceptionHandler((e, c, parsed) -> {
            String command = c.getCommandSpec().qualifiedName();
            if (e instanceof ConfigException || e instanceof IdentityException || e instanceof dev.entente.engine.error.EntenteException
                    || e instanceof IllegalStateException) {
                err.println(command + ": " + e.getMessage());
            } else {
                // Anything else still ends the command with one line and a non-zero exit, never
                // with a half-started node: main exits, which stops every thread the node started.
                err.println(command + ": failed: " + e);
            }
            return 1;
        });
        return cl.execute(args);
    }

    /** Every command's help starts with "usage:" and ends with its exit codes (the common ones, unless it has its own). */
    private static void usageHeading(CommandLine c) {
        CommandLine.Model.UsageMessageSpec usage = c.getCommandSpec().usageMessage();
        usage.synopsisHeading("usage: ");
        if (usage.exitCodeList().isEmpty()) {
            Map<String, String> codes = new LinkedHashMap<>();
            codes.put("0", "done");
            codes.put("1", "failed: the message says why and what to do");
            codes.put("2", "wrong usage: the message says what was wrong");
            usage.exitCodeListHeading("%nExit status:%n").exitCodeList(codes);
        }
        c.getSubcommands().values().forEach(Cli::usageHeading);
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(out);
        return 2;
    }

    /** The version of this build, from the resource the build fills in. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"entente " + version(), "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }

        static String version() {
            Properties p = new Properties();
            try (InputStream in = Cli.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot read this build's version: " + e.getMessage(), e);
            }
            String v = p.getProperty("version", "");
            return v.isEmpty() || v.startsWith("${") ? "(development build)" : v;
        }
    }

    /** {@code -h}/{@code --help} on every command ({@code --version} is the top command's); testkit commands mix it in too. */
    public static final class HelpOption {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
        boolean help;
    }

    /** A command that only holds subcommands: alone, it is wrong usage, and says which it needs. */
    abstract static class Group implements Callable<Integer> {
        @CommandLine.Mixin
        HelpOption help;
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            throw new ParameterException(spec.commandLine(), spec.name() + " needs "
                    + spec.usageMessage().synopsisSubcommandLabel().replace("|", " or "));
        }
    }

    /** The top command, whose streams every command writes to, from any command below it. */
    static Cli of(CommandLine.Model.CommandSpec spec) {
        CommandLine.Model.CommandSpec at = spec;
        while (!(at.userObject() instanceof Cli top)) {
            at = at.parent();
        }
        return top;
    }

    /** Where a command that reads a node's configuration finds it. */
    static final class ConfigFile {
        @Option(names = "--config", paramLabel = "FILE", description = "the node's configuration (default: ${DEFAULT-VALUE})", defaultValue = "node.yaml")
        Path file;

        NodeConfig load() {
            return ConfigLoader.load(file);
        }
    }

    // ---- init

    @Command(name = "init", footerHeading = "%nExamples:%n", footer = {
        "  entente init --data-dir /var/lib/entente/site-a --name site-a --new-domain",
        "  entente init --data-dir /var/lib/entente/site-b --name site-b --listen 0.0.0.0:7400 --admin-listen 127.0.0.1:7480"},
            description = {"Makes a node: its identity, admin token, starting configuration and store.",
        "DIR/identity holds its EC P-256 key and self-signed certificate (DIR/cert.pem, to pin on its peers),",
        "DIR/admin.token the admin API's token, DIR/node.yaml a starting configuration, DIR/data the store."})
    static final class Init implements Callable<Integer> {
        @CommandLine.Mixin
        HelpOption help;
        @ParentCommand
        Cli cli;
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--data-dir", paramLabel = "DIR", required = true, description = "the node's directory (new or empty)")
        Path dir;
        @Option(names = "--name", paramLabel = "NAME", required = true, description = "the node's name: 1 to 64 letters, digits, '_', '.', '-'")
        String name;
        @Option(names = "--new-domain", description = "start a new domain; without it the node joins an existing domain by refreshing from its first agreement's supplier")
        boolean newDomain;
        @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:7400", description = "replication address (default: ${DEFAULT-VALUE})")
        String listen;
        @Option(names = "--admin-listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7480", description = "REST admin address (default: ${DEFAULT-VALUE})")
        String adminListen;
        @Option(names = "--json", description = "print what was made as JSON")
        boolean json;

        @Override
        public Integer call() {
            PrintStream out = cli.out;
            Path dir = this.dir.toAbsolutePath();
            if (!dev.entente.protocol.PeerText.isNodeName(name)) {
                throw new ParameterException(spec.commandLine(), "--name '" + name + "' is not a valid name: use 1 to 64 letters, digits, '_', '.', '-'");
            }
            if (Files.exists(dir.resolve("node.yaml")) || Files.exists(EntenteNode.identityDirectory(dir))) {
                throw new IllegalStateException(dir + " already holds a node: use it, or choose an empty directory");
            }
            try {
                FileModes.ownerOnlyDirectory(dir);
                NodeIdentity id = NodeIdentity.create(EntenteNode.identityDirectory(dir), name, NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC());
                byte[] token = new byte[24];
                new SecureRandom().nextBytes(token);
                writeOwnerOnly(dir.resolve("admin.token"), HexFormat.of().formatHex(token) + "\n");
                Files.writeString(dir.resolve("cert.pem"), id.certificatePem());
                FileModes.createOwnerOnly(dir.resolve("node.yaml"));
                Files.writeString(dir.resolve("node.yaml"), """
                        # Entente node '%s'. Add the peers this node supplies under replication.consumers,
                        # and its pulls under agreements (see docs/operations.md).
                        name: %s
                        dataDirectory: .
                        replication:
                          listen: %s
                          consumers: []
                        agreements: []
                        admin:
                          listen: %s
                          tokenFile: admin.token
                        """.formatted(name, name, listen, adminListen), StandardCharsets.UTF_8);
                try (Engine e = Engine.open(EngineOptions.builder(EntenteNode.engineDirectory(dir)).build())) {
                    if (!newDomain) {
                        e.markRefreshRequired(EntenteNode.JOINING);
                    }
                    if (json) {
                        out.println(json(object("node", name, "dataDirectory", dir.toString(), "origin", e.originId().toString(),
                                "domain", newDomain ? e.domainId().toString() : null, "joining", !newDomain, "certificate", dir.resolve("cert.pem").toString(),
                                "publicKeySha256", id.publicKeyFingerprint(), "config", dir.resolve("node.yaml").toString())));
                        return 0;
                    }
                    out.println("node '" + name + "' made in " + dir);
                    out.println("  origin id   " + e.originId());
                    out.println("  domain      " + (newDomain ? e.domainId() + " (new)" : "joins by refresh from its first agreement"));
                    out.println("  certificate " + dir.resolve("cert.pem") + " (public key SHA-256 " + id.publicKeyFingerprint() + ")");
                    out.println("  config      " + dir.resolve("node.yaml"));
                }
                return 0;
            } catch (IOException e) {
                throw new IllegalStateException("cannot write to " + dir + ": " + e.getMessage(), e);
            }
        }
    }

    static void writeOwnerOnly(Path file, String content) throws IOException {
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(file, content, StandardCharsets.UTF_8);
    }

    // ---- node

    @Command(name = "node", description = "Runs the node its configuration describes until SIGTERM or Ctrl-C, logging to stdout.",
            footerHeading = "%nExamples:%n", footer = {"  entente node --config /var/lib/entente/site-a/node.yaml"},
            exitCodeListHeading = "%nExit status:%n", exitCodeList = {"0:stopped by SIGTERM or Ctrl-C",
                "1:could not start: the message names the setting or the file", "2:wrong usage",
                "75:its store could not write for engine.stopAfterStoreFailure: a service manager starts it again"})
    static final class NodeCommand implements Callable<Integer> {
        @CommandLine.Mixin
        HelpOption help;
        @ParentCommand
        Cli cli;
        @CommandLine.Mixin
        ConfigFile config;

        @Override
        public Integer call() {
            return cli.runNode(config.file);
        }
    }

    private int runNode(Path configFile) {
        NodeConfig config = ConfigLoader.load(configFile);
        Path logConfig = Logging.configureNode(configFile, out);
        if (logConfig != null) {
            out.println("logging as " + logConfig + " says");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<EntenteNode> running = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        // Registered before the node starts: a store-stuck stop and a SIGTERM are then handled
        // alike, once; a SIGTERM in the middle of start-up ends the process with its stop line.
        Thread hook = new Thread(() -> stop(config.name(), running, stopping, stopped, 0, null), "entente-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        EntenteNode n;
        try {
            n = EntenteNode.start(config, reason -> new Thread(() -> stop(config.name(), running, stopping, stopped, EXIT_RESTART, reason),
                    "entente-store-stop").start());
        } catch (RuntimeException e) {
            Runtime.getRuntime().removeShutdownHook(hook);
            throw e;
        }
        running.set(n);
        out.println("node '" + config.name() + "' replicating on " + n.replication().address() + ", origin " + n.engine().originId()
                + ", domain " + n.engine().domainId());
        n.engine().refreshRequired().ifPresent(r -> out.println("  refresh required: " + r));
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** Exit status of a node that stopped for its service manager to restart it. */
    static final int EXIT_RESTART = 75;

    /**
     * Stops the node once, whoever asks first: SIGTERM or Ctrl-C (exit 0: a stop asked for that
     * completed is a success for a service manager; the JVM would otherwise exit 143 after its
     * hooks), or a store that has failed too long (exit 75, EX_TEMPFAIL: a service manager
     * restarts it, systemd's Restart=on-failure, and RocksDB clears the error when it opens).
     * The other asker waits for it. A close that hangs ends the process after a minute all the
     * same: the write-ahead log keeps every commit.
     */
    private void stop(String name, java.util.concurrent.atomic.AtomicReference<EntenteNode> running,
                      java.util.concurrent.atomic.AtomicBoolean stopping, CountDownLatch stopped, int exit, String reason) {
        if (!stopping.compareAndSet(false, true)) {
            try {
                stopped.await(90, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        out.println(reason == null ? "node '" + name + "' stopping" : "node '" + name + "' stopping for a restart: " + reason
                + ". Committed data is safe; the node exits " + EXIT_RESTART + " for its service manager to start it again (systemd: Restart=on-failure)");
        out.flush();
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(60_000);
                out.println("node '" + name + "' did not finish closing within 60 s; exiting " + exit + " (committed data is in the write-ahead log)");
                out.flush();
                Runtime.getRuntime().halt(exit);
            } catch (InterruptedException closedInTime) {
                // the close finished first
            }
        }, "entente-stop-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        try {
            EntenteNode n = running.get();
            if (n != null) {
                n.close();
            }
        } finally {
            out.println("node '" + name + "' stopped");
            out.flush();
            stopped.countDown();
            Runtime.getRuntime().halt(exit);
        }
    }

    // ---- commands that talk to a running node

    /** A command that talks to a running node over its admin API (address and token from its configuration). */
    abstract static class Remote implements Callable<Integer> {
        @CommandLine.Mixin
        HelpOption help;
        @Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        ConfigFile config;
        @Option(names = "--json", description = "print the node's JSON reply as it is")
        boolean json;

        /** The request: its method, path and body (null: none). */
        abstract AdminClient.Reply call(AdminClient client);

        /** The reply for a person. */
        abstract String describe(String body);

        /** What to say while a long request runs; null: nothing. */
        String progress(AdminClient client) {
            return null;
        }

        Cli cli() {
            return of(spec);
        }

        @Override
        public Integer call() {
            Cli cli = cli();
            NodeConfig c = config.load();
            AdminClient client = new AdminClient(c);
            AdminClient.Reply r = withProgress(cli.err, name(), () -> progress(client), () -> call(client));
            if (r.status() >= 300) {
                cli.err.println(name() + ": node '" + c.name() + "' answered " + r.status() + ": " + AdminClient.errorText(r.body()));
                return 1;
            }
            cli.out.println(json ? r.body().trim() : describe(r.body()));
            return 0;
        }

        private String name() {
            return spec.qualifiedName();
        }

    }

    /**
     * Runs {@code work}, printing {@code progress} to {@code err} every few seconds while it
     * lasts (when it has something to say).
     */
    static <T> T withProgress(PrintStream err, String command, java.util.function.Supplier<String> progress, java.util.function.Supplier<T> work) {
        Thread t = new Thread(() -> {
            long start = System.nanoTime();
            try {
                while (true) {
                    Thread.sleep(3000);
                    String p = progress.get();
                    if (p != null) {
                        err.println(command + ": " + p + " (" + (System.nanoTime() - start) / 1_000_000_000 + " s so far)");
                    }
                }
            } catch (InterruptedException done) {
                // the work ended
            } catch (RuntimeException e) {
                // Progress is a courtesy: the work's own result says whether it worked.
                err.println(command + ": no progress to show: " + e.getMessage());
            }
        }, "entente-progress");
        t.setDaemon(true);
        t.start();
        try {
            return work.get();
        } finally {
            t.interrupt();
        }
    }

    @Command(name = "status", description = "A running node's status: origin, domain, RUV, agreements, consumers, refusals.",
            footerHeading = "%nExamples:%n", footer = {"  entente status                       # node.yaml in this directory",
                "  entente status --config /var/lib/entente/site-a/node.yaml --json"})
    static final class Status extends Remote {
        @Override
        AdminClient.Reply call(AdminClient client) {
            return client.call("GET", "/v1/status", null);
        }

        @Override
        String describe(String body) {
            return AdminClient.describeStatus(body);
        }
    }

    @Command(name = "sync", description = "Makes a running node pull now, and reports each session.",
            footerHeading = "%nExamples:%n", footer = {"  entente sync", "  entente sync --agreement 'from site-b' --json"})
    static final class Sync extends Remote {
        @Option(names = "--agreement", paramLabel = "NAME", description = "only this agreement (default: all)")
        String agreement;

        @Override
        AdminClient.Reply call(AdminClient client) {
            return client.call("POST", "/v1/replication/sync" + (agreement == null ? "" : "?agreement=" + encode(agreement)), null);
        }

        @Override
        String describe(String body) {
            return AdminClient.describeSync(body);
        }
    }

    @Command(name = "refresh", description = {"Replaces a running node's content by a snapshot from an agreement's supplier.",
        "The node's changes that no other node holds are lost; it takes a new origin id.",
        "While it runs, a line on stderr every few seconds says how far it is: records and bytes, rate, time left."},
            footerHeading = "%nExamples:%n", footer = {"  entente refresh --from 'from site-b'", "  entente refresh --from from-b --json 2>/dev/null"})
    static final class Refresh extends Remote {
        @Option(names = "--from", paramLabel = "AGREEMENT", required = true, description = "the agreement whose supplier to refresh from")
        String from;

        @Override
        AdminClient.Reply call(AdminClient client) {
            return client.call("POST", "/v1/replication/refresh?from=" + encode(from), null);
        }

        @Override
        String progress(AdminClient client) {
            return AdminClient.describeRefreshProgress(client.call("GET", "/v1/status", null).body(), from);
        }

        @Override
        String describe(String body) {
            return AdminClient.describeRefresh(body);
        }
    }

    @Command(name = "backup", description = {"Writes a running node's consistent backup (.tar.gz) to its backup directory (backup.directory).",
        "While it runs, a line on stderr every few seconds says how far it is: bytes, rate, time left."},
            footerHeading = "%nExamples:%n", footer = {"  entente backup", "  entente backup --name before-upgrade.tar.gz --replace --json"})
    static final class BackupCommand extends Remote {
        @Option(names = "--name", paramLabel = "NAME.tar.gz", description = "the file name (default: NODE-TIME.tar.gz)")
        String name;
        @Option(names = "--replace", description = "replace an existing backup of that name")
        boolean replace;

        @Override
        AdminClient.Reply call(AdminClient client) {
            Map<String, Object> body = object("replace", replace);
            if (name != null) {
                body.put("name", name);
            }
            return client.call("POST", "/v1/backup", json(body));
        }

        @Override
        String progress(AdminClient client) {
            String p = AdminClient.describeBackupProgress(client.call("GET", "/v1/status", null).body(), name);
            return p != null ? p : "writing the backup";
        }

        @Override
        String describe(String body) {
            return AdminClient.describeBackup(body);
        }
    }

    @Command(name = "changes", footerHeading = "%nExamples:%n", footer = {"  entente changes --follow",
        "  entente changes --cursor 1200 --json"}, description = {"Prints a running node's change feed, one line per commit.",
        "From --cursor (default: the start of the feed that is kept); with --follow, then each commit as it happens, until Ctrl-C."})
    static final class Changes implements Callable<Integer> {
        @CommandLine.Mixin
        HelpOption help;
        @ParentCommand
        Cli cli;
        @CommandLine.Mixin
        ConfigFile config;
        @Option(names = "--cursor", paramLabel = "N", defaultValue = "0", description = "print the commits after this sequence number")
        long cursor;
        @Option(names = "--follow", description = "keep printing commits as they happen")
        boolean follow;
        @Option(names = "--json", description = "print each commit as the node's JSON")
        boolean json;

        @Override
        public Integer call() {
            NodeConfig c = config.load();
            AdminClient client = new AdminClient(c);
            long at = cursor;
            while (true) {
                AdminClient.Reply r = client.call("GET", "/v1/changes?cursor=" + at + "&limit=1000" + (follow ? "&wait=" + AdminApi.MAX_WAIT_SECONDS : ""), null);
                if (r.status() >= 300) {
                    cli.err.println("entente changes: node '" + c.name() + "' answered " + r.status() + ": " + AdminClient.errorText(r.body()));
                    return 1;
                }
                AdminClient.Page page = AdminClient.changes(r.body());
                page.lines(json).forEach(cli.out::println);
                cli.out.flush();
                at = page.cursor();
                if (!follow && page.empty()) {
                    return 0;
                }
            }
        }
    }

    /** Reads a certificate file for a request body. */
    static String pem(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the certificate " + file + ": " + e.getMessage(), e);
        }
    }

    @Command(name = "consumer", description = "Pins or unpins a consumer of a running node, kept across restarts.",
            synopsisSubcommandLabel = "add|remove", subcommands = {ConsumerCommand.Add.class, ConsumerCommand.Remove.class})
    static final class ConsumerCommand extends Group {

        @Command(name = "add", description = "Pins a consumer: it may pull from this node from now on.",
                footerHeading = "%nExample:%n", footer = "  entente consumer add --name site-d --certificate /tmp/site-d/cert.pem")
        static final class Add extends Remote {
            @Option(names = "--name", required = true, paramLabel = "NAME", description = "the consumer's node name")
            String name;
            @Option(names = "--certificate", required = true, paramLabel = "FILE", description = "its certificate (entente cert show on it prints it)")
            Path certificate;
            @Option(names = "--mutual", description = "it may ask this node to pull from it too (mutual-pull)")
            boolean mutual;

            @Override
            AdminClient.Reply call(AdminClient client) {
                return client.call("POST", "/v1/peers/consumers", json(object("name", name, "certificate", pem(certificate), "mutual", mutual)));
            }

            @Override
            String describe(String body) {
                return "consumer '" + name + "' pinned\n" + AdminClient.describePeers(body);
            }
        }

        @Command(name = "remove", description = "Unpins a consumer: its connections end.", footerHeading = "%nExample:%n",
                footer = "  entente consumer remove --name site-d")
        static final class Remove extends RemovePeer {
            Remove() {
                super("consumers", "consumer '%s' unpinned");
            }
        }
    }

    @Command(name = "agreement", description = "Adds or removes an agreement of a running node, kept across restarts.",
            synopsisSubcommandLabel = "add|remove", subcommands = {AgreementCommand.Add.class, AgreementCommand.Remove.class})
    static final class AgreementCommand extends Group {

        @Command(name = "add", footerHeading = "%nExample:%n",
                footer = "  entente agreement add --name from-d --supplier site-d.example.org:7400 --certificate /tmp/site-d/cert.pem",
                description = {"Adds an agreement: this node pulls from a supplier from now on.",
            "Refused, with nothing added, when the supplier is unreachable, its certificate is not the one given,",
            "or it does not pin this node yet (pin it there first: entente consumer add)."})
        static final class Add extends Remote {
            @Option(names = "--name", required = true, paramLabel = "NAME")
            String name;
            @Option(names = "--supplier", required = true, paramLabel = "HOST:PORT", description = "the supplier's replication address")
            String supplier;
            @Option(names = "--certificate", required = true, paramLabel = "FILE", description = "the supplier's certificate")
            Path certificate;
            @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "5s", description = "pull at least this often (default: ${DEFAULT-VALUE})")
            String interval;
            @Option(names = "--mutual-pull", description = "ask the supplier to pull from this node too")
            boolean mutualPull;

            @Override
            AdminClient.Reply call(AdminClient client) {
                return client.call("POST", "/v1/peers/agreements", json(object("name", name, "supplier", supplier, "certificate", pem(certificate),
                        "interval", interval, "mode", mutualPull ? "mutual-pull" : "pull")));
            }

            @Override
            String describe(String body) {
                return "agreement '" + name + "' added\n" + AdminClient.describePeers(body);
            }
        }

        @Command(name = "remove", description = "Stops and removes an agreement.", footerHeading = "%nExample:%n",
                footer = "  entente agreement remove --name from-d")
        static final class Remove extends RemovePeer {
            Remove() {
                super("agreements", "agreement '%s' removed");
            }
        }
    }

    /** Removes a consumer or an agreement by name. */
    abstract static class RemovePeer extends Remote {
        private final String kind;
        private final String done;
        @Option(names = "--name", required = true, paramLabel = "NAME")
        String name;

        RemovePeer(String kind, String done) {
            this.kind = kind;
            this.done = done;
        }

        @Override
        AdminClient.Reply call(AdminClient client) {
            return client.call("DELETE", "/v1/peers/" + kind + "/" + encode(name), null);
        }

        @Override
        String describe(String body) {
            return done.formatted(name) + "\n" + AdminClient.describePeers(body);
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** A map (in its order) or a list as one line of JSON: a request body, or a command's --json output. */
    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }

    /** A JSON object of these keys and values, in this order (values may be null). */
    static Map<String, Object> object(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /** A query value or a path segment, percent-encoded. */
    static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    // ---- restore

    @Command(name = "restore", description = {"Restores a backup into a new or empty data directory.",
        "The restored node takes a new origin id (its peers may hold changes it made after the backup) and",
        "catches up from its agreements' suppliers when it runs; the certificates its configuration pinned",
        "are in DIR/pinned."}, footerHeading = "%nExamples:%n",
            footer = {"  entente restore --from /var/backups/entente/site-a-20261207T101500Z.tar.gz --data-dir /var/lib/entente/site-a",
                "  entente restore --from big.tar.gz --data-dir /srv/site-a --max-size 200GiB --json"})
    static final class Restore implements Callable<Integer> {
        @CommandLine.Mixin
        HelpOption help;
        @ParentCommand
        Cli cli;
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--from", paramLabel = "FILE.tar.gz", required = true, description = "the backup archive")
        Path archive;
        @Option(names = "--data-dir", paramLabel = "DIR", required = true, description = "where to restore it (new or empty)")
        Path dir;
        @Option(names = "--max-size", paramLabel = "SIZE", description = "the most the archive may unpack to (default: 64 times its size, at least 1GiB)")
        String maxSize;
        @Option(names = "--json", description = "print what was restored as JSON")
        boolean json;

        @Override
        public Integer call() {
            Path dir = this.dir.toAbsolutePath();
            long maxBytes;
            try {
                maxBytes = maxSize != null ? ConfigLoader.size(maxSize)
                        : Math.max(1L << 30, 64 * (Files.isRegularFile(archive) ? Files.size(archive) : 0));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--max-size '" + maxSize + "' is " + e.getMessage());
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + archive + ": " + e.getMessage(), e);
            }
            long size = archive.toFile().length();
            long start = System.nanoTime();
            java.util.concurrent.atomic.AtomicLong read = new java.util.concurrent.atomic.AtomicLong();
            var origin = withProgress(cli.err, "entente restore", () -> "reading the archive: " + AdminClient.describe(new dev.entente.engine.Progress("bytes",
                    read.get(), size, read.get(), Duration.ofNanos(System.nanoTime() - start))),
                    () -> Backup.restore(archive, dir, maxBytes, read::addAndGet));
            cli.out.println(json ? json(object("archive", archive.toString(), "dataDirectory", dir.toString(), "origin", origin.toString(),
                    "config", dir.resolve("node.yaml").toString()))
                    : "restored " + archive + " into " + dir + "; new origin id " + origin + "; run: entente node --config " + dir.resolve("node.yaml"));
            return 0;
        }
    }

    // ---- cert

    @Command(name = "cert", description = "Shows or renews this node's certificate.",
            synopsisSubcommandLabel = "show|renew", subcommands = {Cert.Show.class, Cert.Renew.class})
    static final class Cert extends Group {

        /** Whose certificate: the node of a configuration, or of a data directory. */
        static final class Which {
            @Option(names = "--config", paramLabel = "FILE", description = "the node's configuration (default: node.yaml)")
            Path config;
            @Option(names = "--data-dir", paramLabel = "DIR", description = "the node's directory, instead of --config")
            Path dataDir;

            Path directory() {
                return dataDir != null ? dataDir : ConfigLoader.load(config != null ? config : Path.of("node.yaml")).dataDirectory();
            }
        }

        @Command(name = "show", description = "Prints the node's certificate (PEM), to pin on its peers.",
                footerHeading = "%nExamples:%n", footer = {"  entente cert show --config /var/lib/entente/site-a/node.yaml > site-a.pem",
                    "  entente cert show --data-dir /var/lib/entente/site-a --json"})
        static final class Show implements Callable<Integer> {
            @CommandLine.Mixin
            HelpOption help;
            @ParentCommand
            Cert cert;
            @CommandLine.Mixin
            Which which;
            @Option(names = "--json", description = "the certificate and what it says, as JSON")
            boolean json;

            @Override
            public Integer call() {
                Cli cli = of(cert.spec);
                NodeIdentity id = NodeIdentity.load(EntenteNode.identityDirectory(which.directory()));
                if (json) {
                    cli.out.println(json(object("node", id.name(), "notAfter", id.notAfter().toString(), "publicKeySha256", id.publicKeyFingerprint(),
                            "pem", id.certificatePem())));
                    return 0;
                }
                cli.out.print(id.certificatePem());
                cli.err.println("node '" + id.name() + "', valid until " + id.notAfter() + ", public key SHA-256 " + id.publicKeyFingerprint());
                return 0;
            }
        }

        @Command(name = "renew", description = "Issues a new certificate for the same key (peers' pins stay valid); restart the node to use it.",
                footerHeading = "%nExamples:%n", footer = {"  entente cert renew --config /var/lib/entente/site-a/node.yaml",
                    "  entente cert renew --data-dir /var/lib/entente/site-a --validity 365d --json"})
        static final class Renew implements Callable<Integer> {
            @CommandLine.Mixin
            HelpOption help;
            @ParentCommand
            Cert cert;
            @Spec
            CommandLine.Model.CommandSpec spec;
            @CommandLine.Mixin
            Which which;
            @Option(names = "--validity", paramLabel = "DURATION", description = "from 1d to 3650d (default: 180d)")
            String validity;
            @Option(names = "--json", description = "print the renewed certificate's dates and key as JSON")
            boolean json;

            @Override
            public Integer call() {
                Cli cli = of(cert.spec);
                Duration v;
                try {
                    v = validity != null ? ConfigLoader.duration(validity) : NodeIdentity.DEFAULT_VALIDITY;
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), "--validity '" + validity + "' is " + e.getMessage());
                }
                if (v.compareTo(Duration.ofDays(1)) < 0 || v.compareTo(Duration.ofDays(3650)) > 0) {
                    throw new ParameterException(spec.commandLine(), "--validity must be from 1d to 3650d, got " + validity
                            + " (a certificate valid less than a day is expired before peers can pin it)");
                }
                Path dir = which.directory();
                NodeIdentity renewed = NodeIdentity.load(EntenteNode.identityDirectory(dir)).renew(v, Clock.systemUTC());
                try {
                    Files.writeString(dir.resolve("cert.pem"), renewed.certificatePem());
                } catch (IOException e) {
                    throw new IllegalStateException("cannot write " + dir.resolve("cert.pem") + ": " + e.getMessage(), e);
                }
                cli.out.println(json ? json(object("node", renewed.name(), "notAfter", renewed.notAfter().toString(), "publicKeySha256",
                        renewed.publicKeyFingerprint(), "certificate", dir.resolve("cert.pem").toString()))
                        : "renewed: valid until " + renewed.notAfter() + "; same key, so peers' pins stay valid; restart the node to use it");
                return 0;
            }
        }
    }

    // ---- config

    @Command(name = "config", description = "Checks, exports or hashes a configuration.",
            synopsisSubcommandLabel = "check|export|hash", subcommands = {ConfigCommand.Check.class, ConfigCommand.Export.class, ConfigCommand.Hash.class})
    static final class ConfigCommand extends Group {

        PrintStream out() {
            return of(spec).out;
        }

        @Command(name = "check", description = "Loads and validates the configuration; lists every problem with its path.",
                footerHeading = "%nExamples:%n", footer = {"  entente config check --config /var/lib/entente/site-a/node.yaml",
                    "  entente config check --json    # {\"ok\": false, \"problems\": [...]} and exit 1 when it has problems"})
        static final class Check implements Callable<Integer> {
            @CommandLine.Mixin
            HelpOption help;
            @ParentCommand
            ConfigCommand parent;
            @CommandLine.Mixin
            ConfigFile config;
            @Option(names = "--json", description = "the verdict, and every problem, as JSON")
            boolean json;

            @Override
            public Integer call() {
                NodeConfig c;
                try {
                    c = config.load();
                } catch (ConfigException e) {
                    if (!json) {
                        throw e;
                    }
                    parent.out().println(json(object("ok", false, "config", config.file.toString(), "problems", e.problems())));
                    return 1;
                }
                parent.out().println(json ? json(object("ok", true, "config", config.file.toString(), "node", c.name(), "agreements", c.agreements().size(),
                        "consumers", c.consumers().size()))
                        : "ok: node '" + c.name() + "', " + c.agreements().size() + " agreements, " + c.consumers().size() + " consumers");
                return 0;
            }
        }

        @Command(name = "export", description = "Prints the effective configuration (defaults filled in, secrets redacted).",
                footerHeading = "%nExamples:%n", footer = {"  entente config export --config /var/lib/entente/site-a/node.yaml", "  entente config export --json"})
        static final class Export implements Callable<Integer> {
            @CommandLine.Mixin
            HelpOption help;
            @ParentCommand
            ConfigCommand parent;
            @CommandLine.Mixin
            ConfigFile config;
            @Option(names = "--json", description = "as JSON rather than YAML")
            boolean json;

            @Override
            public Integer call() {
                NodeConfig c = config.load();
                parent.out().print(json ? ConfigExport.json(c) + "\n" : ConfigExport.yaml(c));
                return 0;
            }
        }

        @Command(name = "hash", description = {"Prints a stable SHA-256 of the effective configuration.",
            "It is the hash of the effective configuration: comments, and defaults written out or left out, do not change it."},
                footerHeading = "%nExamples:%n", footer = {"  entente config hash --config /var/lib/entente/site-a/node.yaml", "  entente config hash --json"})
        static final class Hash implements Callable<Integer> {
            @CommandLine.Mixin
            HelpOption help;
            @ParentCommand
            ConfigCommand parent;
            @CommandLine.Mixin
            ConfigFile config;
            @Option(names = "--json", description = "as JSON")
            boolean json;

            @Override
            public Integer call() {
                String hash = ConfigExport.hash(config.load());
                parent.out().println(json ? json(object("sha256", hash)) : hash);
                return 0;
            }
        }
    }

    // ---- demo, and the testkit's commands

    @Command(name = "demo", description = {"Three nodes on loopback, with TLS, writing and converging.",
        "Each node writes; they pull from each other until their digests are equal, and the demo prints the digest."},
            footerHeading = "%nExamples:%n", footer = {"  entente demo", "  entente demo --entries 20000"})
    static final class DemoCommand implements Callable<Integer> {
        @CommandLine.Mixin
        HelpOption help;
        @ParentCommand
        Cli cli;
        @Option(names = "--entries", paramLabel = "N", defaultValue = "2000", description = "entries each node writes (default: ${DEFAULT-VALUE})")
        int entries;

        @Override
        public Integer call() {
            Logging.configure(cli.err, ch.qos.logback.classic.Level.ERROR);
            return Demo.run(entries, cli.out);
        }
    }

    private static CommandLine elsewhere(String what) {
        CommandLine c = new CommandLine(new Elsewhere());
        c.getCommandSpec().usageMessage().description(what, "It runs from a source checkout, whose testkit jar holds it: bin/entente <command>.");
        return c;
    }

    /** A testkit command in a jar without the testkit: it says where it runs. */
    @Command
    static final class Elsewhere implements Callable<Integer> {
        @CommandLine.Mixin
        HelpOption help;
        @Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Unmatched
        List<String> arguments;

        @Override
        public Integer call() {
            throw new IllegalStateException("this jar holds the node's commands only; '" + spec.name() + "' runs from a source checkout, whose testkit"
                    + " jar holds it: bin/entente " + spec.name() + " (build it first: mvn -B -q install -DskipTests)");
        }
    }
}
