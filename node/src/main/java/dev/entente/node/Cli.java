package dev.entente.node;

import dev.entente.config.ConfigException;
import dev.entente.config.ConfigExport;
import dev.entente.config.ConfigLoader;
import dev.entente.config.NodeConfig;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import java.io.IOException;
import java.io.PrintStream;
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
import java.util.concurrent.CountDownLatch;

/**
 * The {@code entente} command line. Every command has {@code --help}; wrong usage says what was
 * wrong and exits with 2; a failure says what to do and exits with 1.
 */
public final class Cli {
    private final PrintStream out;
    private final PrintStream err;

    Cli(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    /** Runs one command as {@code entente} would, writing to the given streams; returns its exit code. */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        return new Cli(out, err).run(args);
    }

    /** Wrong usage: the message says what was wrong. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    private static final String USAGE = """
            usage: entente <command> [options]
              init      make a node: its identity, admin token, a starting configuration and store
              node      run a node from its configuration
              cert      show or renew this node's certificate
              config    check, export or hash a configuration
              status    a running node's status: origin, domain, RUV, agreements
              sync      make a running node pull now, and report each session
              refresh   replace a running node's content from one of its agreements' suppliers
              backup    write a running node's consistent backup to a .tar.gz
              restore   restore a backup into a new data directory (with a new origin id)
              demo      three nodes on loopback, with TLS, writing and converging
              bench     the standard benchmark workloads on real node processes (bin/entente
                        runs it from the testkit jar)
            'entente <command> --help' says more.""";

    int run(String[] args) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            out.println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        // Commands print their results; what they log is only for when something goes wrong.
        Logging.configure(err, ch.qos.logback.classic.Level.WARN);
        try {
            return switch (args[0]) {
                case "init" -> init(rest);
                case "node" -> node(rest);
                case "cert" -> cert(rest);
                case "config" -> config(rest);
                case "status" -> remote(rest, "status");
                case "sync" -> remote(rest, "sync");
                case "refresh" -> remote(rest, "refresh");
                case "backup" -> remote(rest, "backup");
                case "restore" -> restore(rest);
                case "demo" -> {
                    Logging.configure(err, ch.qos.logback.classic.Level.ERROR);
                    yield Demo.run(rest, out);
                }
                case "bench" -> throw new UsageException("the bench lives in the testkit jar: run 'bin/entente bench', or "
                        + "'java -jar testkit/target/entente-testkit.jar bench'");
                default -> throw new UsageException("unknown command '" + args[0] + "'\n" + USAGE);
            };
        } catch (UsageException e) {
            err.println("entente: " + e.getMessage());
            return 2;
        } catch (ConfigException | IdentityException | dev.entente.engine.error.EntenteException | IllegalStateException e) {
            err.println("entente " + args[0] + ": " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            // Anything else still ends the command with one line and a non-zero exit, never with a
            // half-started node: main exits, which stops every thread the node had started.
            err.println("entente " + args[0] + ": failed: " + e);
            return 1;
        }
    }

    /** Options as {@code --name value} or {@code --flag}; anything else is wrong usage. */
    static Map<String, String> options(String[] args, String usage, List<String> flags, List<String> valued) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                o.put("--help", "");
            } else if (flags.contains(a)) {
                o.put(a, "true");
            } else if (valued.contains(a)) {
                if (i + 1 >= args.length) {
                    throw new UsageException(a + " needs a value\n" + usage);
                }
                o.put(a, args[++i]);
            } else {
                throw new UsageException("unknown option '" + a + "'\n" + usage);
            }
        }
        return o;
    }

    static String required(Map<String, String> o, String name, String usage) {
        String v = o.get(name);
        if (v == null) {
            throw new UsageException(name + " is required\n" + usage);
        }
        return v;
    }

    // ---- init

    private static final String INIT = """
            usage: entente init --data-dir DIR --name NAME [--new-domain] [--listen HOST:PORT] [--admin-listen HOST:PORT]
              Makes DIR/identity (EC P-256 key and self-signed certificate), DIR/admin.token,
              DIR/node.yaml (a starting configuration) and the store in DIR/data.
              --new-domain  start a new domain; without it the node joins an existing domain by
                            refreshing from its first agreement's supplier
              --listen      replication address (default 0.0.0.0:7400)
              --admin-listen  REST admin address (default 127.0.0.1:7480)""";

    private int init(String[] args) throws UsageException {
        Map<String, String> o = options(args, INIT, List.of("--new-domain"), List.of("--data-dir", "--name", "--listen", "--admin-listen"));
        if (o.containsKey("--help")) {
            out.println(INIT);
            return 0;
        }
        Path dir = Path.of(required(o, "--data-dir", INIT)).toAbsolutePath();
        String name = required(o, "--name", INIT);
        if (!dev.entente.protocol.PeerText.isNodeName(name)) {
            throw new UsageException("--name '" + name + "' is not a valid name: use 1 to 64 letters, digits, '_', '.', '-'");
        }
        if (Files.exists(dir.resolve("node.yaml")) || Files.exists(EntenteNode.identityDirectory(dir))) {
            throw new IllegalStateException(dir + " already holds a node: use it, or choose an empty directory");
        }
        String listen = o.getOrDefault("--listen", "0.0.0.0:7400");
        String adminListen = o.getOrDefault("--admin-listen", "127.0.0.1:7480");
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
                if (!o.containsKey("--new-domain")) {
                    e.markRefreshRequired("new node: it joins the domain by refreshing from its first agreement's supplier");
                }
                out.println("node '" + name + "' made in " + dir);
                out.println("  origin id   " + e.originId());
                out.println("  domain      " + (o.containsKey("--new-domain") ? e.domainId() + " (new)" : "joins by refresh from its first agreement"));
                out.println("  certificate " + dir.resolve("cert.pem") + " (public key SHA-256 " + id.publicKeyFingerprint() + ")");
                out.println("  config      " + dir.resolve("node.yaml"));
            }
            return 0;
        } catch (IOException e) {
            throw new IllegalStateException("cannot write to " + dir + ": " + e.getMessage(), e);
        }
    }

    static void writeOwnerOnly(Path file, String content) throws IOException {
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(file, content, StandardCharsets.UTF_8);
    }

    // ---- node

    private static final String NODE = """
            usage: entente node --config FILE
              Runs the node the configuration describes until SIGTERM or Ctrl-C, logging to stdout.""";

    private int node(String[] args) {
        Map<String, String> o = options(args, NODE, List.of(), List.of("--config"));
        if (o.containsKey("--help")) {
            out.println(NODE);
            return 0;
        }
        Path configFile = Path.of(required(o, "--config", NODE));
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

    private static final String REMOTE = """
            usage: entente status  [--config FILE] [--json]
                   entente sync    [--config FILE] [--agreement NAME]
                   entente refresh [--config FILE] --from AGREEMENT
                   entente backup  [--config FILE] [--name NAME.tar.gz] [--replace]
              These talk to the running node over its admin API (address and token from its
              configuration, node.yaml in this directory unless --config says otherwise).
              A backup is written to the node's backup directory (backup.directory), under NAME
              (default: NODE-TIME.tar.gz); an existing one is replaced only with --replace.""";

    private int remote(String[] args, String command) {
        Map<String, String> o = options(args, REMOTE, List.of("--json", "--replace"), List.of("--config", "--agreement", "--from", "--name"));
        if (o.containsKey("--help")) {
            out.println(REMOTE.replace("usage: entente status", "usage: entente " + command + " (and status)"));
            return 0;
        }
        NodeConfig c = ConfigLoader.load(Path.of(o.getOrDefault("--config", "node.yaml")));
        AdminClient client = new AdminClient(c);
        AdminClient.Reply r = switch (command) {
            case "status" -> client.call("GET", "/v1/status", null);
            case "sync" -> client.call("POST", "/v1/replication/sync" + (o.containsKey("--agreement") ? "?agreement=" + o.get("--agreement") : ""), null);
            case "refresh" -> client.call("POST", "/v1/replication/refresh?from=" + required(o, "--from", REMOTE), null);
            default -> client.call("POST", "/v1/backup", "{" + (o.containsKey("--name") ? "\"name\": " + AdminClient.quote(o.get("--name")) + ", " : "")
                    + "\"replace\": " + o.containsKey("--replace") + "}");
        };
        if (r.status() >= 300) {
            err.println("entente " + command + ": node '" + c.name() + "' answered " + r.status() + ": " + r.body().trim());
            return 1;
        }
        out.println(o.containsKey("--json") || !command.equals("status") ? r.body().trim() : AdminClient.describeStatus(r.body()));
        return 0;
    }

    private static final String RESTORE = """
            usage: entente restore --from FILE.tar.gz --data-dir DIR [--max-size SIZE]
              Restores a backup into DIR (new or empty). The restored node takes a new origin id
              (its peers may hold changes it made after the backup) and catches up from its
              agreements' suppliers when it runs. The archive may unpack to at most SIZE
              (default: 64 times its own size, and at least 1GiB); the certificates its
              configuration pinned are in DIR/pinned.""";

    private int restore(String[] args) {
        Map<String, String> o = options(args, RESTORE, List.of(), List.of("--from", "--data-dir", "--max-size"));
        if (o.containsKey("--help")) {
            out.println(RESTORE);
            return 0;
        }
        Path archive = Path.of(required(o, "--from", RESTORE));
        Path dir = Path.of(required(o, "--data-dir", RESTORE)).toAbsolutePath();
        long maxBytes;
        try {
            maxBytes = o.containsKey("--max-size") ? ConfigLoader.size(o.get("--max-size"))
                    : Math.max(1L << 30, 64 * (Files.isRegularFile(archive) ? Files.size(archive) : 0));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--max-size '" + o.get("--max-size") + "' is " + e.getMessage() + "\n" + RESTORE);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + archive + ": " + e.getMessage(), e);
        }
        var origin = Backup.restore(archive, dir, maxBytes);
        out.println("restored " + archive + " into " + dir + "; new origin id " + origin + "; run: entente node --config " + dir.resolve("node.yaml"));
        return 0;
    }

    // ---- cert

    private static final String CERT = """
            usage: entente cert show --data-dir DIR
                   entente cert renew --data-dir DIR [--validity DURATION]
              show   prints the node's certificate (PEM), to pin on its peers
              renew  issues a new certificate for the same key (pins stay valid); default 180d""";

    private int cert(String[] args) {
        if (args.length == 0) {
            throw new UsageException("cert needs show or renew\n" + CERT);
        }
        Map<String, String> o = options(java.util.Arrays.copyOfRange(args, 1, args.length), CERT, List.of(), List.of("--data-dir", "--validity"));
        if (o.containsKey("--help") || args[0].equals("--help")) {
            out.println(CERT);
            return 0;
        }
        if (!args[0].equals("show") && !args[0].equals("renew")) {
            throw new UsageException("cert needs show or renew, not '" + args[0] + "'\n" + CERT);
        }
        Path dir = Path.of(required(o, "--data-dir", CERT));
        NodeIdentity id = NodeIdentity.load(EntenteNode.identityDirectory(dir));
        switch (args[0]) {
            case "show" -> {
                out.print(id.certificatePem());
                err.println("node '" + id.name() + "', valid until " + id.notAfter() + ", public key SHA-256 " + id.publicKeyFingerprint());
            }
            case "renew" -> {
                Duration validity;
                try {
                    validity = o.containsKey("--validity") ? ConfigLoader.duration(o.get("--validity")) : NodeIdentity.DEFAULT_VALIDITY;
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--validity '" + o.get("--validity") + "' is " + e.getMessage() + "\n" + CERT);
                }
                if (validity.compareTo(Duration.ofDays(1)) < 0 || validity.compareTo(Duration.ofDays(3650)) > 0) {
                    throw new UsageException("--validity must be from 1d to 3650d, got " + o.get("--validity")
                            + " (a certificate valid less than a day is expired before peers can pin it)\n" + CERT);
                }
                NodeIdentity renewed = id.renew(validity, Clock.systemUTC());
                try {
                    Files.writeString(dir.resolve("cert.pem"), renewed.certificatePem());
                } catch (IOException e) {
                    throw new IllegalStateException("cannot write " + dir.resolve("cert.pem") + ": " + e.getMessage(), e);
                }
                out.println("renewed: valid until " + renewed.notAfter() + "; same key, so peers' pins stay valid; restart the node to use it");
            }
            default -> throw new UsageException("cert needs show or renew, not '" + args[0] + "'\n" + CERT);
        }
        return 0;
    }

    // ---- config

    private static final String CONFIG = """
            usage: entente config check|export|hash --config FILE [--json]
              check   loads and validates the configuration; lists every problem with its path
              export  prints the effective configuration (defaults filled in, secrets redacted)
              hash    prints a stable SHA-256 of the effective configuration""";

    private int config(String[] args) {
        if (args.length == 0) {
            throw new UsageException("config needs check, export or hash\n" + CONFIG);
        }
        Map<String, String> o = options(java.util.Arrays.copyOfRange(args, 1, args.length), CONFIG, List.of("--json"), List.of("--config"));
        if (o.containsKey("--help") || args[0].equals("--help")) {
            out.println(CONFIG);
            return 0;
        }
        if (!List.of("check", "export", "hash").contains(args[0])) {
            throw new UsageException("config needs check, export or hash, not '" + args[0] + "'\n" + CONFIG);
        }
        NodeConfig c = ConfigLoader.load(Path.of(required(o, "--config", CONFIG)));
        switch (args[0]) {
            case "check" -> out.println("ok: node '" + c.name() + "', " + c.agreements().size() + " agreements, " + c.consumers().size() + " consumers");
            case "export" -> out.print(o.containsKey("--json") ? ConfigExport.json(c) + "\n" : ConfigExport.yaml(c));
            case "hash" -> out.println(ConfigExport.hash(c));
            default -> throw new UsageException("config needs check, export or hash, not '" + args[0] + "'\n" + CONFIG);
        }
        return 0;
    }
}
