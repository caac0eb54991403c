package dev.entente.node;

import dev.entente.engine.session.AgreementStatus;
import dev.entente.engine.AttributeChange;
import dev.entente.engine.Attributes;
import dev.entente.engine.Digest;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.Schema;
import dev.entente.engine.Transaction;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * {@code entente demo}: three nodes on loopback, each with its own RocksDB directory and
 * identity, replicating over TLS 1.3 with pinned certificates in a full mesh. Two join the first
 * by refresh; then all three write concurrently (creates, modifies, deletes, and one deliberate
 * uniqueness clash that two of them resolve by renaming), and it prints their digests and the
 * agreements' lag until they converge.
 */
final class Demo {
    private static final String[] NAMES = {"alpha", "beta", "gamma"};

    private Demo() {
    }

    /** Three TLS nodes on loopback each write {@code perNode} entries and converge; returns the exit code. */
    static int run(int perNode, PrintStream out) {
        Path root;
        try {
            root = Files.createTempDirectory("entente-demo");
        } catch (IOException e) {
            throw new IllegalStateException("cannot make a temporary directory: " + e.getMessage(), e);
        }
        List<Engine> engines = new ArrayList<>();
        List<ReplicationNode> nodes = new ArrayList<>();
        try {
            List<NodeIdentity> ids = new ArrayList<>();
            for (String n : NAMES) {
                ids.add(NodeIdentity.create(root.resolve(n).resolve("identity"), n, NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC()));
                engines.add(Engine.open(EngineOptions.builder(root.resolve(n).resolve("data")).blockCacheBytes(16 << 20).writeBufferBytes(16 << 20).build()));
            }
            engines.get(0).transaction().defineNamespace("people", Schema.builder().unique("name").set("memberof").build()).commit();
            engines.get(1).markRefreshRequired("new node: joining the domain");
            engines.get(2).markRefreshRequired("new node: joining the domain");
            int[] ports = new int[NAMES.length];
            for (int i = 0; i < NAMES.length; i++) {
                try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                    ports[i] = s.getLocalPort();
                } catch (IOException e) {
                    throw new IllegalStateException("cannot find a free port on 127.0.0.1: " + e.getMessage(), e);
                }
            }
            startAll(engines, ids, ports, nodes);
            out.printf("three nodes over TLS 1.3 (%s) on 127.0.0.1 ports %d, %d, %d; data in %s%n", Tls.provider(), ports[0], ports[1], ports[2], root);
            await(() -> engines.stream().allMatch(e -> e.refreshRequired().isEmpty()), Duration.ofSeconds(60), "beta and gamma to join");
            out.println("beta and gamma joined the domain " + engines.get(0).domainId() + " by refresh");
            // A deliberate clash: each node creates name=shared while the nodes are apart.
            nodes.forEach(ReplicationNode::close);
            nodes.clear();
            List<UUID> shared = new ArrayList<>();
            for (int i = 0; i < engines.size(); i++) {
                shared.add(engines.get(i).create("people", Attributes.ofText("name", "shared", "mail", NAMES[i] + "@example.org")));
            }
            startAll(engines, ids, ports, nodes);
            return writeAndConverge(engines, nodes, shared, perNode, out);
        } finally {
            nodes.forEach(ReplicationNode::close);
            engines.forEach(Engine::close);
            try (Stream<Path> walk = Files.walk(root)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            } catch (IOException e) {
                out.println("could not delete " + root + ": " + e.getMessage());
            }
        }
    }

    /** A full mesh: every node serves the other two and pulls from both. */
    private static void startAll(List<Engine> engines, List<NodeIdentity> ids, int[] ports, List<ReplicationNode> nodes) {
            for (int i = 0; i < NAMES.length; i++) {
                List<ConsumerPin> consumers = new ArrayList<>();
                List<Agreement> agreements = new ArrayList<>();
                for (int j = 0; j < NAMES.length; j++) {
                    if (j != i) {
                        consumers.add(ConsumerPin.of(NAMES[j], ids.get(j).certificate()));
                        agreements.add(new Agreement(NAMES[i] + "<-" + NAMES[j], new InetSocketAddress("127.0.0.1", ports[j]), ids.get(j).certificate(),
                                Agreement.Mode.PULL, Duration.ofSeconds(2), true));
                    }
                }
                nodes.add(ReplicationNode.start(engines.get(i), ids.get(i), new InetSocketAddress("127.0.0.1", ports[i]), consumers, agreements,
                        TransportOptions.DEFAULTS));
            }
    }

    private static int writeAndConverge(List<Engine> engines, List<ReplicationNode> nodes, List<UUID> shared, int perNode, PrintStream out) {
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Thread> writers = new ArrayList<>();
        for (int i = 0; i < engines.size(); i++) {
            Engine e = engines.get(i);
            String name = NAMES[i];
            UUID mine = shared.get(i);
            writers.add(new Thread(() -> {
                try {
                    List<UUID> ids = new ArrayList<>();
                    for (int k = 0; k < perNode; k += 10) {
                        Transaction tx = e.transaction();
                        for (int j = k; j < Math.min(perNode, k + 10); j++) {
                            UUID id = e.newEntryId();
                            ids.add(id);
                            tx.create("people", id, Attributes.builder().text("name", name + "-" + j).text("mail", name + j + "@example.org")
                                    .text("memberof", "g" + (j % 7)).build());
                        }
                        tx.commit();
                        if (k % 200 == 0 && ids.size() > 20) {
                            e.modify("people", ids.get(ids.size() - 11), AttributeChange.add("memberof", "admins"));
                            e.delete("people", ids.remove(ids.size() - 20));
                        }
                        Thread.sleep(2);
                    }
                    if (!name.equals(NAMES[0])) {
                        e.modify("people", mine, AttributeChange.set("name", "shared-" + name));
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }, "writer-" + name));
        }
        long start = System.nanoTime();
        long mostConflicts = 0;
        writers.forEach(Thread::start);
        long deadline = start + 120_000_000_000L;
        long lastPrint = 0;
        while (System.nanoTime() < deadline && failures.isEmpty()) {
            boolean done = writers.stream().noneMatch(Thread::isAlive);
            List<Digest> digests = engines.stream().map(Engine::digest).toList();
            mostConflicts = Math.max(mostConflicts, digests.stream().mapToLong(Digest::conflicts).min().orElse(0));
            boolean converged = done && digests.stream().distinct().count() == 1 && engines.get(0).conflicts("people", null, 10).items().isEmpty();
            if (converged || System.nanoTime() - lastPrint > 1_000_000_000L) {
                lastPrint = System.nanoTime();
                StringBuilder line = new StringBuilder(String.format("%5.1fs", (lastPrint - start) / 1e9));
                for (int i = 0; i < engines.size(); i++) {
                    long lag = nodes.get(i).status().stream().mapToLong(AgreementStatus::lagMillis).max().orElse(0);
                    line.append(String.format("  | %s %s lag %d ms", NAMES[i], digests.get(i), lag));
                }
                out.println(line);
            }
            if (converged) {
                out.println("converged: all three nodes hold digest " + digests.get(0).hex());
                out.println(mostConflicts > 0
                        ? "the clash on name=shared was flagged on every node (" + mostConflicts + " conflicted entries at once) and resolved by renaming"
                        : "the clash on name=shared was resolved by renaming before the nodes showed it");
                return 0;
            }
            sleep(50);
        }
        for (Thread t : writers) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        out.println(failures.isEmpty() ? "the nodes did not converge within 120 s" : "a writer failed: " + failures.get(0));
        return 1;
    }

    private static void await(java.util.function.BooleanSupplier condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            sleep(20);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
