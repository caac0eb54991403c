package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.engine.Attributes;
import dev.entente.engine.Engine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real nodes, real TLS sockets on 127.0.0.1, real RocksDB. */
class ReplicationOverTlsTest {

    @Test
    void aNewNodeJoinsByRefreshThenFollowsIncrementally(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            Engine a = c.founder("a");
            for (int i = 0; i < 200; i++) {
                a.create("people", Attributes.ofText("name", "before-" + i));
            }
            Engine b = c.joiner("b");
            c.start("a", List.of("b"), List.of());
            c.start("b", List.of("a"), List.of("a"));
            c.awaitConvergence(Duration.ofSeconds(20));
            assertEquals(a.domainId(), b.domainId());
            UUID later = a.create("people", Attributes.ofText("name", "after"));
            Cluster.await("the new entry to reach b", Duration.ofSeconds(10), () -> b.get("people", later).isPresent());
            assertEquals(1, c.nodes.get("b").status().get(0).refreshes());
        }
    }

    @Test
    void threeNodesInARingWritingConcurrentlyConverge(@TempDir Path dir) throws Exception {
        runTopology(dir, List.of(new String[] {"a", "b"}, new String[] {"b", "c"}, new String[] {"c", "a"}));
    }

    @Test
    void threeNodesInAFullMeshWritingConcurrentlyConverge(@TempDir Path dir) throws Exception {
        runTopology(dir, List.of(new String[] {"a", "b"}, new String[] {"b", "a"}, new String[] {"b", "c"}, new String[] {"c", "b"},
                new String[] {"a", "c"}, new String[] {"c", "a"}));
    }

    /** @param pulls consumer, supplier pairs */
    private static void runTopology(Path dir, List<String[]> pulls) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            List<String> names = List.of("a", "b", "c");
            c.reservePorts("a", "b", "c");
            c.founder("a");
            c.joiner("b");
            c.joiner("c");
            for (String n : names) {
                List<String> suppliers = new ArrayList<>();
                for (String[] p : pulls) {
                    if (p[0].equals(n)) {
                        suppliers.add(p[1]);
                    }
                }
                c.start(n, names.stream().filter(x -> !x.equals(n)).toList(), suppliers);
            }
            c.awaitConvergence(Duration.ofSeconds(20));
            List<Thread> writers = new ArrayList<>();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (String n : names) {
                Engine e = c.engine(n);
                writers.add(new Thread(() -> {
                    try {
                        for (int i = 0; i < 300; i++) {
                            e.create("people", Attributes.ofText("name", n + "-" + i));
                        }
                    } catch (Throwable t) {
                        failures.add(t);
                    }
                }));
            }
            writers.forEach(Thread::start);
            for (Thread t : writers) {
                t.join();
            }
            assertTrue(failures.isEmpty(), "every write was accepted: " + failures);
            c.awaitConvergence(Duration.ofSeconds(30));
            assertEquals(900, c.engine("a").digest().entries());
            // An agreement whose supplier was still joining when it first pulled sits in backoff for a
            // while; convergence can come through the other agreements first, so wait for every one.
            for (String n : names) {
                Cluster.await("every agreement of " + n + " to have pulled once", Duration.ofSeconds(30),
                        () -> c.nodes.get(n).status().stream().allMatch(s -> s.lastSuccess() != null));
            }
        }
    }
}
