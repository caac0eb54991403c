package dev.entente.testkit.bench;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Two converged nodes holding many identity entries: A (the founder) loads them in transactions
 * of 1,000 while B follows; a third node, C, is made and pinned on A but not started, for a
 * workload that has it join by refresh. Every JVM is capped at 256 MB of heap, as W5 asks, so the
 * same nodes serve W4 and W5.
 */
final class BigDatabase implements AutoCloseable {
    static final String HEAP = "256m";

    final BenchCluster cluster;
    final NodeHandle a;
    final NodeHandle b;
    final int entries;
    final double loadSeconds;

    private BigDatabase(BenchCluster cluster, NodeHandle a, NodeHandle b, int entries, double loadSeconds) {
        this.cluster = cluster;
        this.a = a;
        this.b = b;
        this.entries = entries;
        this.loadSeconds = loadSeconds;
    }

    static BigDatabase create(Path dir, int entries) throws Exception {
        BenchCluster c = new BenchCluster(dir);
        try {
            c.init("a", true);
            c.init("b", false);
            c.init("c", false);
            c.pull("b", "a");
            c.pull("c", "a");
            var nodes = c.start(HEAP, "a", "b");
            NodeHandle a = nodes.get(0);
            NodeHandle b = nodes.get(1);
            a.call("define", Duration.ofSeconds(30));
            BenchCluster.join(Duration.ofSeconds(120), b);
            String[] load = a.call("load " + entries + " 1000 big-", Duration.ofMinutes(30)).split(" ");
            b.call("await-entry " + load[1] + " " + Duration.ofMinutes(30).toMillis(), Duration.ofMinutes(31));
            BenchCluster.awaitSameDigest(Duration.ofMinutes(2), a, b);
            return new BigDatabase(c, a, b, entries, Double.parseDouble(load[0]));
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
