package dev.entente.testkit.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The fault suite on real processes: node processes in a full mesh of pull agreements, each link
 * through a {@link FaultyLink}; every node takes random writes through its REST API while faults
 * run (kill -9 and restart, SIGSTOP and SIGCONT, links cut, black-holed or slowed, a full disk,
 * a restart on a port in use); then every
 * fault heals and the run checks that all nodes hold the same digest and the same entries, that
 * no acknowledged write is lost and that no acknowledged deletion comes back. The seed decides the
 * faults and the writes (their timing is the machine's); a failure names it.
 */
public final class Chaos {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] FAULT_KINDS = {"kill", "stop", "cut", "blackhole", "delay", "disk-full", "port-in-use"};

    /** @param faultTime how long faults and writes run before everything heals */
    public record Settings(long seed, int nodes, Duration faultTime) {
        public String replay() {
            return "bin/entente chaos --seed " + seed + " --nodes " + nodes + " --seconds " + faultTime.toSeconds();
        }
    }

    /** What a run did. */
    public record Report(Settings settings, int acknowledged, int uncertain, int deleted, int faults, Map<String, Integer> faultKinds, String digest,
                         long convergeMillis) {
    }

    private final Settings settings;
    private final Path root;
    private final PrintStream log;
    private final List<NodeProcess> nodes = new ArrayList<>();
    private final List<FaultyLink> links = new ArrayList<>();
    private final Ledger ledger = new Ledger();
    private volatile boolean writing = true;
    private int faults;
    private final Map<String, Integer> faultKinds = new TreeMap<>();
    /** Exits of node processes the run did not cause, by exit status; the supervisor restarted them. */
    private final Map<Integer, Integer> selfExits = new TreeMap<>();
    /** Exits no fault explains: the run fails with them. */
    private final List<String> unexpectedExits = new ArrayList<>();
    /** Each node's directory is a tmpfs of its own (mounting needs root): full-disk faults run. */
    private final List<Path> mounted = new ArrayList<>();
    /** Nodes whose disk a fault holds full now. */
    private final Set<NodeProcess> fullDisks = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private Chaos(Settings settings, Path root, PrintStream log) {
        this.settings = settings;
        this.root = root;
        this.log = log;
    }

    /** Runs one chaos run in {@code root}; throws an AssertionError naming the seed when a check fails. */
    public static Report run(Settings settings, Path root, PrintStream log) throws Exception {
        Chaos c = new Chaos(settings, root, log);
        try {
            return c.run();
        } catch (AssertionError | RuntimeException e) {
            StringBuilder tails = new StringBuilder();
            for (NodeProcess n : c.nodes) {
                tails.append("\n    ").append(n.name).append(" log:\n      ").append(n.logTail());
            }
            throw new AssertionError("chaos run failed: " + e.getMessage() + "\n  replay: " + settings.replay() + tails, e);
        } finally {
            c.nodes.forEach(NodeProcess::close);
            for (FaultyLink l : c.links) {
                l.close();
            }
            c.unmount();
        }
    }

    private Report run() throws Exception {
        setUp();
        List<Thread> writers = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            int index = i;
            Thread t = new Thread(() -> write(index, new Random(settings.seed() * 31 + index)), "chaos-writer-" + index);
            t.start();
            writers.add(t);
        }
        runFaults(new Random(settings.seed()));
        writing = false;
        for (Thread t : writers) {
            t.join();
        }
        heal();
        long start = System.nanoTime();
        String digest = converge();
        long convergeMillis = (System.nanoTime() - start) / 1_000_000;
        check();
        Report r = new Report(settings, ledger.acknowledged(), ledger.uncertain.size(), ledger.deleted.size(), faults, Map.copyOf(faultKinds), digest,
                convergeMillis);
        log.printf("chaos seed=%d nodes=%d faults for %ds: %d faults %s, %d writes acknowledged (%d uncertain), %d deletions; "
                        + "nodes that ended by themselves and were restarted, by exit status: %s; converged in %d ms, digest %s%n",
                settings.seed(), settings.nodes(), settings.faultTime().toSeconds(), faults, faultKinds, r.acknowledged(), r.uncertain(), r.deleted(),
                selfExits, convergeMillis, digest);
        return r;
    }

    // ---- set-up

    private void setUp() throws Exception {
        int n = settings.nodes();
        int[] replication = new int[n];
        int[] admin = new int[n];
        Set<Integer> taken = new HashSet<>();
        mountDisks(n);
        for (int i = 0; i < n; i++) {
            replication[i] = dev.entente.testkit.LoopbackPorts.free(taken::contains);
            taken.add(replication[i]);
            admin[i] = dev.entente.testkit.LoopbackPorts.free(taken::contains);
            taken.add(admin[i]);
            Path dir = root.resolve("c" + i);
            List<String> args = new ArrayList<>(List.of("init", "--data-dir", dir.toString(), "--name", "c" + i, "--listen",
                    "127.0.0.1:" + replication[i], "--admin-listen", "127.0.0.1:" + admin[i]));
            if (i == 0) {
                args.add("--new-domain");
            }
            int code = dev.entente.node.Cli.execute(args.toArray(String[]::new), new PrintStream(java.io.OutputStream.nullOutputStream()), log);
            if (code != 0) {
                throw new IllegalStateException("entente init of c" + i + " exited " + code);
            }
        }
        for (int i = 0; i < n; i++) {
            StringBuilder yaml = new StringBuilder();
            yaml.append("name: c").append(i).append("\ndataDirectory: .\nreplication:\n  listen: 127.0.0.1:").append(replication[i]).append("\n  consumers:\n");
            for (int j = 0; j < n; j++) {
                if (j != i) {
                    yaml.append("    - name: c").append(j).append("\n      certificate: ").append(root.resolve("c" + j + "/cert.pem")).append('\n');
                }
            }
            yaml.append("agreements:\n");
            // The founder first: a joining node refreshes from its first agreement's supplier.
            for (int j = 0; j < n; j++) {
                if (j != i) {
                    FaultyLink link = new FaultyLink("c" + i + "-from-c" + j, replication[j]);
                    links.add(link);
                    yaml.append("  - name: c").append(i).append("-from-c").append(j).append("\n    supplier: 127.0.0.1:").append(link.port())
                            .append("\n    certificate: ").append(root.resolve("c" + j + "/cert.pem")).append("\n    interval: 1s\n");
                }
            }
            yaml.append("admin:\n  listen: 127.0.0.1:").append(admin[i]).append("\n  tokenFile: admin.token\n");
            // A store stuck after a full disk stops the node for a restart sooner than the default 60 s.
            yaml.append("engine:\n  blockCache: 8MiB\n  writeBuffer: 4MiB\n  stopAfterStoreFailure: 10s\n");
            Files.writeString(root.resolve("c" + i + "/node.yaml"), yaml.toString());
            nodes.add(new NodeProcess("c" + i, root.resolve("c" + i), admin[i], replication[i]));
        }
        NodeProcess founder = nodes.get(0);
        founder.start();
        require(founder.awaitHealthy(Duration.ofSeconds(60)), "c0 did not start");
        require(founder.call("PUT", "/v1/namespaces/people", "{}", Duration.ofSeconds(10)).status() == 200, "c0 refused the namespace");
        for (NodeProcess p : nodes.subList(1, n)) {
            p.start();
        }
        for (NodeProcess p : nodes) {
            require(p.awaitHealthy(Duration.ofSeconds(90)), p.name + " did not join (health never 200)");
        }
        log.println("chaos: " + n + " node processes joined; faults and writes for " + settings.faultTime().toSeconds() + " s, seed " + settings.seed());
    }

    /** A tmpfs per node when this runs as root, so that a fault can fill one node's disk. */
    private void mountDisks(int n) throws IOException, InterruptedException {
        if (!"root".equals(System.getProperty("user.name"))) {
            log.println("chaos: no full-disk faults (mounting a tmpfs for each node needs root)");
            return;
        }
        for (int i = 0; i < n; i++) {
            Path dir = Files.createDirectories(root.resolve("c" + i));
            if (!command("mount", "-t", "tmpfs", "-o", "size=1g,mode=0700", "tmpfs", dir.toString())) {
                log.println("chaos: no full-disk faults (cannot mount a tmpfs on " + dir + ")");
                unmount();
                return;
            }
            mounted.add(dir);
        }
    }

    private void unmount() {
        for (Path dir : mounted) {
            try {
                if (!command("umount", "-l", dir.toString())) {
                    log.println("chaos: cannot unmount the tmpfs on " + dir);
                }
            } catch (IOException | InterruptedException e) {
                log.println("chaos: cannot unmount the tmpfs on " + dir + ": " + e);
            }
        }
        mounted.clear();
    }

    private static boolean command(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }


    // ---- writes

    /** What the writers were told: acknowledged values, deletions, and writes whose outcome is unknown. */
    private static final class Ledger {
        /** The last acknowledged value of each entry, for entries whose every write was answered. */
        final Map<String, String> value = new HashMap<>();
        final Set<String> deleted = new HashSet<>();
        /** Entries with a write that got no answer (a timeout, a killed node): their state is not checked. */
        final Set<String> uncertain = new HashSet<>();
        int acks;

        synchronized void ack(String id, String v) {
            value.put(id, v);
            acks++;
        }

        synchronized void ackDelete(String id) {
            deleted.add(id);
            value.remove(id);
            acks++;
        }

        synchronized void unsure(String id) {
            uncertain.add(id);
        }

        synchronized int acknowledged() {
            return acks;
        }
    }

    private void write(int index, Random random) {
        NodeProcess node = nodes.get(index);
        List<String> mine = new ArrayList<>();
        int k = 0;
        while (writing) {
            k++;
            String v = "c" + index + "-" + k;
            int dice = random.nextInt(10);
            if (mine.isEmpty() || dice < 6) {
                String id = java.util.UUID.nameUUIDFromBytes((settings.seed() + "/" + v).getBytes()).toString();
                NodeProcess.Reply r = node.call("POST", "/v1/namespaces/people/entries", "{\"id\": \"" + id + "\", \"attrs\": {\"name\": \"" + v + "\"}}",
                        Duration.ofSeconds(3));
                if (r.status() == 201) {
                    ledger.ack(id, v);
                    mine.add(id);
                } else if (!refusedForSure(r)) {
                    ledger.unsure(id);
                    mine.add(id);
                }
            } else if (dice < 9) {
                String id = mine.get(random.nextInt(mine.size()));
                NodeProcess.Reply r = node.call("PATCH", "/v1/namespaces/people/entries/" + id, "{\"set\": {\"name\": \"" + v + "\"}}", Duration.ofSeconds(3));
                if (r.status() == 200) {
                    ledger.ack(id, v);
                } else if (!refusedForSure(r)) {
                    ledger.unsure(id);
                }
            } else {
                String id = mine.remove(random.nextInt(mine.size()));
                NodeProcess.Reply r = node.call("DELETE", "/v1/namespaces/people/entries/" + id, null, Duration.ofSeconds(3));
                if (r.status() == 200) {
                    ledger.ackDelete(id);
                } else if (!refusedForSure(r)) {
                    ledger.unsure(id);
                } else {
                    mine.add(id);
                }
            }
            try {
                Thread.sleep(random.nextInt(40));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** A refusal that changed nothing: the node answered, with an error of the request, or was not there to take it. */
    private static boolean refusedForSure(NodeProcess.Reply r) {
        return r.status() >= 400 && r.status() < 500 || r.status() == 0 && r.body().contains("ConnectException");
    }

    // ---- faults

    /**
     * What a service manager does (systemd's Restart=on-failure, RestartSec=1s): a node that
     * ended by itself is started again. It may end so only by stopping for a restart (exit 75,
     * its store stuck) or by failing to start on a full disk (exit 1 saying so); any other end
     * fails the run.
     */
    private void supervise() {
        for (NodeProcess n : nodes) {
            synchronized (n) {
                if (n.held() || n.running()) {
                    continue;
                }
                int code = n.exitValue();
                String printed = n.printedSinceStart();
                synchronized (selfExits) {
                    selfExits.merge(code, 1, Integer::sum);
                    boolean explained = code == 75 && printed.contains("stopping for a restart")
                            || code == 1 && (printed.contains("disk is full") || printed.contains("No space"));
                    if (!explained) {
                        unexpectedExits.add(n.name + " exited " + code + " by itself; it printed: " + printed);
                    }
                }
                log.println("  supervisor: " + n.name + " exited " + code + " by itself; starting it again");
                try {
                    n.start();
                } catch (IOException e) {
                    log.println("  supervisor: cannot start " + n.name + ": " + e.getMessage());
                }
            }
        }
    }

    private void runFaults(Random random) throws Exception {
        ScheduledExecutorService undo = Executors.newSingleThreadScheduledExecutor();
        ScheduledExecutorService supervisor = Executors.newSingleThreadScheduledExecutor();
        supervisor.scheduleWithFixedDelay(this::supervise, 1, 1, TimeUnit.SECONDS);
        try {
            long end = System.nanoTime() + settings.faultTime().toNanos();
            while (System.nanoTime() < end) {
                Thread.sleep(500 + random.nextInt(1500));
                long lasts = 1000 + random.nextInt(3000);
                int kind = random.nextInt(7);
                NodeProcess n = nodes.get(random.nextInt(nodes.size()));
                if (kind == 0) {
                    if (!n.running()) {
                        continue;
                    }
                    log.println("  fault: kill -9 " + n.name + ", restart in " + lasts + " ms");
                    n.kill();
                    undo.schedule(() -> restart(n), lasts, TimeUnit.MILLISECONDS);
                } else if (kind == 1) {
                    log.println("  fault: SIGSTOP " + n.name + " for " + lasts + " ms");
                    n.pause();
                    undo.schedule(() -> {
                        n.resume();
                        return null;
                    }, lasts, TimeUnit.MILLISECONDS);
                } else if (kind == 5) {
                    if (mounted.isEmpty()) {
                        continue;
                    }
                    Path filler = fillDisk(n);
                    fullDisks.add(n);
                    log.println("  fault: " + n.name + "'s disk full for " + lasts + " ms");
                    undo.schedule(() -> {
                        Files.deleteIfExists(filler);
                        fullDisks.remove(n);
                        return null;
                    }, lasts, TimeUnit.MILLISECONDS);
                } else if (kind == 6) {
                    if (!restartOnPortInUse(n, random.nextBoolean())) {
                        continue;
                    }
                } else {
                    FaultyLink l = links.get(random.nextInt(links.size()));
                    FaultyLink.Mode m = kind == 2 ? FaultyLink.Mode.CUT : kind == 3 ? FaultyLink.Mode.BLACKHOLE : FaultyLink.Mode.DELAY;
                    log.println("  fault: link " + l.name + " " + m + " for " + lasts + " ms");
                    l.set(m);
                    undo.schedule(() -> l.set(FaultyLink.Mode.PASS), lasts, TimeUnit.MILLISECONDS);
                }
                faults++;
                faultKinds.merge(FAULT_KINDS[kind], 1, Integer::sum);
            }
        } finally {
            undo.shutdown();
            undo.awaitTermination(10, TimeUnit.SECONDS);
            supervisor.shutdown();
            supervisor.awaitTermination(30, TimeUnit.SECONDS);
        }
        synchronized (selfExits) {
            require(unexpectedExits.isEmpty(), "node processes ended with no fault to explain it: " + unexpectedExits);
        }
    }

    private void restart(NodeProcess n) {
        synchronized (n) {
            try {
                if (!n.running()) {
                    n.start();
                }
            } catch (IOException e) {
                log.println("  restart of " + n.name + " failed: " + e.getMessage());
            }
        }
    }

    /** Fills the node's disk to the last byte with a file the fault deletes when it ends. */
    private Path fillDisk(NodeProcess n) throws IOException, InterruptedException {
        Path filler = n.dir.resolve("filler-" + faults);
        long free = Files.getFileStore(n.dir).getUsableSpace();
        if (!command("fallocate", "-l", Long.toString(Math.max(4096, free - 4096)), filler.toString())) {
            log.println("  (fallocate of " + filler + " failed; the disk is as full as it gets)");
        }
        return filler;
    }

    /**
     * Kills the node and starts it again while another process holds its admin or replication
     * port: the start must fail at once, naming the setting, and leave nothing running; then it
     * starts with the port free. False when the node is not running or the port cannot be taken.
     */
    private boolean restartOnPortInUse(NodeProcess n, boolean adminPort) throws Exception {
        synchronized (n) {
            // On a full disk the start fails opening the store before it binds a port.
            if (!n.running() || n.stopped() || fullDisks.contains(n)) {
                return false;
            }
            int port = adminPort ? n.adminPort : n.replicationPort;
            String setting = adminPort ? "(admin.listen)" : "(replication.listen)";
            n.kill();
            ServerSocket taken = new ServerSocket();
            try {
                taken.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            } catch (IOException e) {
                taken.close();
                n.start();
                return false;
            }
            log.println("  fault: " + n.name + " restarted while its port " + port + " " + setting + " is taken");
            long offset = n.logLength();
            int code;
            try (taken) {
                n.start();
                code = n.awaitExit(Duration.ofSeconds(60));
            }
            String said = n.logSince(offset);
            require(code > 0, n.name + " started with its port " + port + " taken and " + (code < 0 ? "was still running after 60 s" : "exited 0")
                    + "; it printed: " + said);
            require(said.contains(setting), n.name + " did not name " + setting + " when its port was taken; it printed: " + said);
            n.start();
            return true;
        }
    }

    private void heal() throws Exception {
        for (FaultyLink l : links) {
            l.set(FaultyLink.Mode.PASS);
        }
        for (NodeProcess n : nodes) {
            n.resume();
            synchronized (n) {
                if (n.held()) {
                    n.start();
                }
            }
        }
        // A node whose store is stuck after a full disk stops for a restart within
        // engine.stopAfterStoreFailure; the supervisor starts it again.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        List<String> unhealthy = new ArrayList<>();
        do {
            supervise();
            unhealthy.clear();
            for (NodeProcess n : nodes) {
                if (n.call("GET", "/_status/check", null, Duration.ofSeconds(2)).status() != 200) {
                    unhealthy.add(n.name);
                }
            }
            if (unhealthy.isEmpty()) {
                break;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        require(unhealthy.isEmpty(), unhealthy + " not healthy within 120 s of the faults healing");
        synchronized (selfExits) {
            require(unexpectedExits.isEmpty(), "node processes ended with no fault to explain it: " + unexpectedExits);
        }
    }

    // ---- checks

    private String converge() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        Map<String, String> digests = new TreeMap<>();
        while (System.nanoTime() < deadline) {
            for (NodeProcess n : nodes) {
                n.call("POST", "/v1/replication/sync", null, Duration.ofSeconds(20));
            }
            digests.clear();
            for (NodeProcess n : nodes) {
                NodeProcess.Reply r = n.call("GET", "/v1/digest", null, Duration.ofSeconds(10));
                digests.put(n.name, r.status() == 200 ? JSON.readTree(r.body()).get("digest").asText() : "unanswered " + r.status());
            }
            if (new HashSet<>(digests.values()).size() == 1 && !digests.values().iterator().next().startsWith("unanswered")) {
                return digests.values().iterator().next();
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the nodes did not converge within 120 s of healing: " + digests);
    }

    private void check() throws Exception {
        Map<String, String> first = null;
        for (NodeProcess n : nodes) {
            Map<String, String> entries = entries(n);
            if (first == null) {
                first = entries;
            } else {
                require(first.equals(entries), n.name + " holds other entries than c0 though the digests agree");
            }
            synchronized (ledger) {
                for (Map.Entry<String, String> e : ledger.value.entrySet()) {
                    if (ledger.uncertain.contains(e.getKey())) {
                        continue;
                    }
                    require(e.getValue().equals(entries.get(e.getKey())), "acknowledged write lost on " + n.name + ": entry " + e.getKey()
                            + " should be '" + e.getValue() + "', is " + (entries.containsKey(e.getKey()) ? "'" + entries.get(e.getKey()) + "'" : "missing"));
                }
                for (String id : ledger.deleted) {
                    require(!entries.containsKey(id), "deleted entry " + id + " came back on " + n.name);
                }
            }
        }
    }

    /** Every live entry of a node: id to its name. */
    private static Map<String, String> entries(NodeProcess n) throws IOException {
        Map<String, String> out = new HashMap<>();
        String after = null;
        do {
            NodeProcess.Reply r = n.call("GET", "/v1/namespaces/people/entries?limit=1000" + (after == null ? "" : "&after=" + after), null,
                    Duration.ofSeconds(20));
            require(r.status() == 200, n.name + " did not list its entries: " + r);
            JsonNode page = JSON.readTree(r.body());
            for (JsonNode item : page.get("items")) {
                out.put(item.get("id").asText(), item.at("/attrs/name/0").asText());
            }
            after = page.hasNonNull("next") ? page.get("next").asText() : null;
        } while (after != null);
        return out;
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    // ---- command line

    /** {@code entente chaos}: one run in a temporary directory; answers the exit code. */
    public static int run(Settings settings, PrintStream out) throws Exception {
        Path root = Files.createTempDirectory("entente-chaos");
        try {
            run(settings, root, out);
            return 0;
        } catch (AssertionError e) {
            out.println("FAIL " + e.getMessage());
            return 1;
        } finally {
            dev.entente.testkit.TempDirs.delete(root);
        }
    }
}
