package dev.entente.testkit;

import dev.entente.engine.session.InProcessReplication;
import dev.entente.engine.AttributeChange;
import dev.entente.engine.Attributes;
import dev.entente.engine.ConflictedEntry;
import dev.entente.engine.Digest;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.Transaction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The main job until the standalone node exists: three engines, each on its own RocksDB
 * directory, write concurrently (creates, modifies, deletes, and a deliberate uniqueness clash)
 * while a replicator per node pulls from the other two through the engine's supplier/consumer
 * API. It prints each node's digest as they converge and exits 0 once all three agree.
 */
final class Demo {
    private static final String[] NAMES = {"alpha", "beta", "gamma"};

    private Demo() {
    }

    static int run(String[] args) throws Exception {
        int perNode = 3000;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--entries") && i + 1 < args.length) {
                perNode = Integer.parseInt(args[++i]);
            } else {
                System.err.println("usage: demo [--entries N]   (N entries written per node, default 3000)");
                return 2;
            }
        }
        Path root = Files.createTempDirectory("entente-demo");
        List<Engine> nodes = new ArrayList<>();
        try {
            for (String name : NAMES) {
                nodes.add(Engine.open(EngineOptions.builder(root.resolve(name)).build()));
            }
            Engine first = nodes.get(0);
            first.transaction().defineNamespace(IdentityEntries.NAMESPACE, IdentityEntries.schema()).commit();
            for (int i = 1; i < nodes.size(); i++) {
                InProcessReplication.refresh(nodes.get(i), NAMES[i], first, NAMES[0], 1 << 20);
            }
            System.out.printf("three nodes in %s, domain %s%n", root, first.domainId());
            for (int i = 0; i < nodes.size(); i++) {
                System.out.printf("  %-6s origin %s%n", NAMES[i], nodes.get(i).originId());
            }
            return replicate(nodes, perNode);
        } finally {
            for (Engine e : nodes) {
                e.close();
            }
            TempDirs.delete(root);
        }
    }

    private static int replicate(List<Engine> nodes, int perNode) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong written = new AtomicLong();
        AtomicLong lastWriteNanos = new AtomicLong(System.nanoTime());
        List<Thread> writers = new ArrayList<>();
        List<Thread> replicators = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        // Every node creates "shared" before replication starts: replication turns that into a
        // uniqueness conflict on every node, until two of them rename theirs.
        List<UUID> shared = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            shared.add(nodes.get(i).create(IdentityEntries.NAMESPACE, Attributes.ofText("name", "shared", "mail", NAMES[i] + "@example.org")));
        }
        for (int i = 0; i < nodes.size(); i++) {
            Engine node = nodes.get(i);
            String name = NAMES[i];
            UUID mineShared = shared.get(i);
            writers.add(new Thread(() -> {
                try {
                    write(node, name, perNode, written, mineShared);
                    lastWriteNanos.set(System.nanoTime());
                } catch (Throwable t) {
                    failures.add(t);
                }
            }, "writer-" + name));
            replicators.add(new Thread(() -> {
                while (running.get()) {
                    for (int j = 0; j < nodes.size(); j++) {
                        if (nodes.get(j) != node) {
                            try {
                                InProcessReplication.pull(node, name, nodes.get(j), NAMES[j], 500);
                            } catch (Throwable t) {
                                failures.add(t);
                                running.set(false);
                            }
                        }
                    }
                    sleep(20);
                }
            }, "replicator-" + name));
        }
        long start = System.nanoTime();
        writers.forEach(Thread::start);
        replicators.forEach(Thread::start);
        long deadline = start + 120_000_000_000L;
        int code = 1;
        for (int tick = 1; System.nanoTime() < deadline && failures.isEmpty(); tick++) {
            sleep(50);
            boolean done = writers.stream().noneMatch(Thread::isAlive);
            List<Digest> digests = nodes.stream().map(Engine::digest).toList();
            boolean converged = done && digests.stream().distinct().count() == 1;
            if (tick % 10 != 0 && !converged) {
                continue;
            }
            StringBuilder line = new StringBuilder(String.format("%6.1fs  written %6d", (System.nanoTime() - start) / 1e9, written.get()));
            for (int i = 0; i < nodes.size(); i++) {
                line.append(String.format("  | %s %s", NAMES[i], digests.get(i)));
            }
            System.out.println(line);
            if (converged) {
                System.out.printf("converged: all three nodes hold digest %s, %.0f ms after the last write%n",
                        digests.get(0).hex(), (System.nanoTime() - lastWriteNanos.get()) / 1e6);
                printConflicts(nodes.get(0));
                code = 0;
                break;
            }
        }
        running.set(false);
        for (Thread t : replicators) {
            t.join();
        }
        for (Thread t : writers) {
            t.join();
        }
        if (!failures.isEmpty()) {
            System.err.println("demo failed: " + failures.get(0));
            failures.get(0).printStackTrace();
            return 1;
        }
        if (code != 0) {
            System.err.println("demo failed: the nodes did not converge within 120 s");
        }
        return code;
    }

    /** Creates entries in small transactions, modifies and deletes some, and makes one clash on purpose. */
    private static void write(Engine node, String name, int count, AtomicLong written, UUID shared) {
        List<UUID> mine = new ArrayList<>();
        for (int i = 0; i < count; i += 10) {
            Transaction tx = node.transaction();
            for (int j = i; j < Math.min(count, i + 10); j++) {
                UUID id = node.newEntryId();
                tx.create(IdentityEntries.NAMESPACE, id, IdentityEntries.entry(name + "-", j));
                mine.add(id);
            }
            tx.commit();
            written.addAndGet(Math.min(10, count - i));
            if (i % 100 == 0 && mine.size() > 20) {
                node.modify(IdentityEntries.NAMESPACE, mine.get(mine.size() - 15), AttributeChange.add("memberof", "cn=admins,dc=example,dc=org"));
                node.delete(IdentityEntries.NAMESPACE, mine.remove(mine.size() - 20));
            }
            sleep(1);
        }
        if (!name.equals(NAMES[0])) {
            node.modify(IdentityEntries.NAMESPACE, shared, AttributeChange.set("name", "shared-" + name));
        }
    }

    private static void printConflicts(Engine node) {
        var page = node.conflicts(IdentityEntries.NAMESPACE, null, 10);
        if (page.items().isEmpty()) {
            System.out.println("no conflicts left: the deliberate clash on name=shared was resolved by renaming");
        }
        for (ConflictedEntry c : page.items()) {
            System.out.println("conflict: " + c.id() + " " + c.uniqueClashes());
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
