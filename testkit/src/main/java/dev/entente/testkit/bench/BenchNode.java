package dev.entente.testkit.bench;

import dev.entente.engine.session.AgreementStatus;
import dev.entente.engine.session.SyncResult;
import dev.entente.config.ConfigLoader;
import dev.entente.config.NodeConfig;
import dev.entente.engine.AttributeChange;
import dev.entente.engine.clock.Cid;
import dev.entente.engine.Digest;
import dev.entente.engine.Engine;
import dev.entente.engine.Entry;
import dev.entente.engine.FeedEvent;
import dev.entente.engine.Page;
import dev.entente.engine.Transaction;
import dev.entente.node.EntenteNode;
import dev.entente.testkit.IdentityEntries;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;

/**
 * A benchmark node: a process of its own that starts {@link EntenteNode} from a configuration file,
 * exactly as {@code entente node --config F} does (RocksDB with its WAL, TLS 1.3 with pinned
 * certificates, the admin API), and takes the bench driver's commands on stdin, one per line,
 * answering each on stdout with one line, {@code OK ...} or {@code ERR reason}. Its log goes to
 * stderr, which the driver keeps in {@code node.log} beside the configuration.
 *
 * <p>Writes go through the engine API, as an embedding server's do; everything after the commit
 * (changelog, notifications, sessions, apply) is the node's own code path.
 */
final class BenchNode {
    private final EntenteNode node;
    private final Engine engine;
    private final HeapSampler heap;
    private final long startNanos;
    private ChangeFeedLag lag;

    private BenchNode(EntenteNode node, HeapSampler heap, long startNanos) {
        this.node = node;
        this.engine = node.engine();
        this.heap = heap;
        this.startNanos = startNanos;
    }

    static int run(String[] args) throws Exception {
        if (args.length != 2 || !args[0].equals("--config")) {
            System.err.println("usage: bench-node --config FILE   (started by 'bench'; talks on stdin/stdout)");
            return 2;
        }
        // stdout is the control channel: anything else printing there would break the protocol.
        PrintStream control = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        try (HeapSampler heap = new HeapSampler()) {
            NodeConfig config = ConfigLoader.load(Path.of(args[1]));
            long start = System.nanoTime();
            try (EntenteNode node = EntenteNode.start(config)) {
                BenchNode b = new BenchNode(node, heap, start);
                control.println("READY " + node.replication().address().getPort() + " " + node.adminAddress().getPort());
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                for (String line; (line = in.readLine()) != null; ) {
                    String[] w = line.trim().split(" ");
                    if (w[0].equals("quit")) {
                        break;
                    }
                    String reply;
                    try {
                        reply = "OK " + b.execute(w);
                    } catch (Exception | AssertionError e) {
                        e.printStackTrace();
                        reply = "ERR " + (e.getMessage() == null ? e.toString() : e.getMessage()).replace('\n', ' ');
                    }
                    control.println(reply);
                }
                if (b.lag != null) {
                    b.lag.close();
                }
            }
        }
        control.println("BYE");
        return 0;
    }

    private String execute(String[] w) throws Exception {
        switch (w[0]) {
            case "define" -> {
                engine.transaction().defineNamespace(IdentityEntries.NAMESPACE, IdentityEntries.schema()).commit();
                return "";
            }
            case "load" -> {
                return load(Integer.parseInt(w[1]), Integer.parseInt(w[2]), w[3]);
            }
            case "await-entry" -> {
                return awaitEntry(UUID.fromString(w[1]), Duration.ofMillis(Long.parseLong(w[2])));
            }
            case "member" -> {
                return member(Duration.ofMillis(Long.parseLong(w[1])));
            }
            case "joined" -> {
                return joined(Duration.ofMillis(Long.parseLong(w[1])));
            }
            case "digest" -> {
                Digest d = engine.digest();
                return d.hex() + " " + d.entries() + " " + d.tombstones() + " " + d.conflicts();
            }
            case "lag-start" -> {
                if (lag != null) {
                    lag.close();
                }
                lag = new ChangeFeedLag(engine, "bench-lag-" + System.nanoTime());
                return "";
            }
            case "lag-stop" -> {
                return lag.stop(Path.of(w[1]));
            }
            case "write-rate" -> {
                return writeAtRate(Integer.parseInt(w[1]), Integer.parseInt(w[2]), w[3]);
            }
            case "modify-all" -> {
                return modifyAll(w[1], w[2], Path.of(w[3]));
            }
            case "dump" -> {
                return dump(w[1], Path.of(w[2]));
            }
            case "sync" -> {
                List<SyncResult> results = node.replication().syncAll(Duration.ofMillis(Long.parseLong(w[1])));
                StringBuilder failed = new StringBuilder();
                results.stream().filter(r -> !r.ok()).forEach(r -> failed.append(r.agreement()).append(": ").append(r.error()).append("; "));
                if (failed.length() > 0) {
                    throw new IllegalStateException("sync failed: " + failed);
                }
                return "";
            }
            case "received" -> {
                long bytes = 0;
                long applied = 0;
                for (AgreementStatus s : node.replication().status()) {
                    bytes += s.bytes();
                    applied += s.changesApplied();
                }
                return bytes + " " + applied;
            }
            case "status" -> {
                return node.replication().status().toString();
            }
            case "cpu" -> {
                return Long.toString(((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime());
            }
            case "jit" -> {
                // Milliseconds the JIT compilers have worked since start: the driver waits for it
                // to stop growing before it measures steady state.
                return Long.toString(ManagementFactory.getCompilationMXBean().getTotalCompilationTime());
            }
            case "heap" -> {
                return Long.toString(heap.peak());
            }
            case "heap-reset" -> {
                System.gc();
                heap.reset();
                return "";
            }
            default -> throw new IllegalArgumentException("unknown bench command '" + w[0] + "'");
        }
    }

    /** N identity entries in transactions of {@code batch}; answers the seconds taken and the last id. */
    private String load(int entries, int batch, String prefix) {
        long t0 = System.nanoTime();
        UUID last = null;
        for (int i = 0; i < entries; i += batch) {
            Transaction tx = engine.transaction();
            for (int j = i; j < Math.min(entries, i + batch); j++) {
                last = engine.newEntryId();
                tx.create(IdentityEntries.NAMESPACE, last, IdentityEntries.entry(prefix, j));
            }
            tx.commit();
        }
        return seconds(t0) + " " + last;
    }

    private String awaitEntry(UUID id, Duration timeout) throws Exception {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        // Woken by each commit instead of polling: a read every 100 µs takes 17-19% of a core here,
        // taken from the node whose catch-up or round is being timed. A commit between the read and
        // the park leaves its permit, so none is missed; the park is bounded all the same.
        Thread waiter = Thread.currentThread();
        try (AutoCloseable listener = engine.addCommitListener(() -> LockSupport.unpark(waiter))) {
            while (engine.get(IdentityEntries.NAMESPACE, id).isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("entry " + id + " did not arrive within " + timeout.toMillis() + " ms: "
                            + node.replication().status());
                }
                LockSupport.parkNanos(20_000_000);
            }
        }
        return seconds(t0);
    }

    /** Waits until this node is a member (no refresh required); answers the seconds since it started. */
    private String member(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (engine.refreshRequired().isPresent()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("still not refreshed after " + timeout.toMillis() + " ms: " + node.replication().status());
            }
            Thread.sleep(2);
        }
        return seconds(startNanos);
    }

    /** Waits until this node is a member (no refresh required) and every agreement has pulled once. */
    private String joined(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (engine.refreshRequired().isPresent()
                || node.replication().status().stream().anyMatch(s -> s.lastSuccess() == null)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not joined within " + timeout.toMillis() + " ms: refresh required "
                        + engine.refreshRequired().orElse("no") + "; " + node.replication().status());
            }
            Thread.sleep(2);
        }
        return seconds(startNanos);
    }

    /** One entry per commit, {@code rate} commits a second, for {@code seconds}. */
    private String writeAtRate(int rate, int seconds, String prefix) {
        long t0 = System.nanoTime();
        long total = (long) rate * seconds;
        for (long i = 0; i < total; i++) {
            long due = t0 + i * 1_000_000_000L / rate;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            engine.transaction().create(IdentityEntries.NAMESPACE, engine.newEntryId(), IdentityEntries.entry(prefix, i)).commit();
        }
        return total + " " + seconds(t0);
    }

    /**
     * Sets {@code attribute} of every entry to {@code value}, 1,000 entries per transaction, and
     * writes {@code id hlc origin} of each change to {@code file}, for the driver to check which
     * value must win.
     */
    private String modifyAll(String attribute, String value, Path file) throws Exception {
        long t0 = System.nanoTime();
        int count = 0;
        try (BufferedWriter out = Files.newBufferedWriter(file)) {
            UUID after = null;
            do {
                Page<Entry> page = engine.list(IdentityEntries.NAMESPACE, after, 1000);
                Transaction tx = engine.transaction();
                for (Entry e : page.items()) {
                    tx.modify(IdentityEntries.NAMESPACE, e.id(), AttributeChange.set(attribute, value));
                }
                if (!page.items().isEmpty()) {
                    Cid cid = tx.commit();
                    for (Entry e : page.items()) {
                        out.write(e.id() + " " + cid.hlc() + " " + cid.origin() + "\n");
                    }
                    count += page.items().size();
                }
                after = page.nextAfter();
            } while (after != null);
        }
        return count + " " + seconds(t0);
    }

    private String dump(String attribute, Path file) throws Exception {
        int count = 0;
        try (BufferedWriter out = Files.newBufferedWriter(file)) {
            UUID after = null;
            do {
                Page<Entry> page = engine.list(IdentityEntries.NAMESPACE, after, 1000);
                for (Entry e : page.items()) {
                    out.write(e.id() + " " + e.text(attribute) + "\n");
                    count++;
                }
                after = page.nextAfter();
            } while (after != null);
        }
        return Integer.toString(count);
    }

    private static String seconds(long sinceNanos) {
        return String.format(Locale.ROOT, "%.6f", (System.nanoTime() - sinceNanos) / 1e9);
    }

    /**
     * Commit-to-visible lag of every remote change applied here from now on: the time this node
     * committed it minus the physical time of its CID (stamped when its origin committed it). Both
     * clocks are this machine's, so the difference is the lag itself, in whole milliseconds. The
     * feed is read by polling, not by a durable subscription, so that measuring writes nothing.
     */
    private static final class ChangeFeedLag implements AutoCloseable {
        private final List<Long> lags = new ArrayList<>();
        private final Engine engine;
        private final Thread reader;
        private volatile boolean stopping;
        private long after;

        ChangeFeedLag(Engine engine, String name) {
            this.engine = engine;
            this.after = engine.feed().lastSequence();
            this.reader = new Thread(this::read, name);
            reader.setDaemon(true);
            reader.start();
        }

        private void read() {
            while (true) {
                boolean last = stopping;
                List<FeedEvent> events = engine.feed().read(after, 10_000);
                for (FeedEvent e : events) {
                    if (!e.local() && !e.reset()) {
                        synchronized (lags) {
                            lags.add(e.committed().toEpochMilli() - e.cid().physicalMillis());
                        }
                    }
                    after = e.sequence();
                }
                if (last && events.isEmpty()) {
                    return;
                }
                if (events.isEmpty()) {
                    // Each event carries its own commit time, so how soon it is read changes no
                    // figure; reading rarely keeps this thread from competing with the node.
                    LockSupport.parkNanos(20_000_000);
                }
            }
        }

        /** Reads the feed up to what is committed now, stops, and writes one lag in ms per line; answers how many. */
        String stop(Path file) throws Exception {
            close();
            List<Long> copy;
            synchronized (lags) {
                copy = new ArrayList<>(lags);
            }
            StringBuilder b = new StringBuilder();
            copy.forEach(l -> b.append(l).append('\n'));
            Files.writeString(file, b);
            return Integer.toString(copy.size());
        }

        @Override
        public void close() throws InterruptedException {
            stopping = true;
            reader.join(30_000);
        }
    }
}
