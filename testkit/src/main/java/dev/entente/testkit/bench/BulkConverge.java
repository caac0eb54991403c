package dev.entente.testkit.bench;

import dev.entente.testkit.chaos.FaultyLink;

import java.nio.file.Path;
import java.time.Duration;

/**
 * W1: identity-like entries written on A in transactions of 1,000 while B, a member holding
 * nothing yet, follows; the time from the first write until B holds them all with A's digest.
 * Fresh JVMs compile as they go, so the same is then done twice more on the same processes and
 * the third round is reported too, as the figure of nodes that have been running a while.
 */
final class BulkConverge implements Workload {
    private static final int WARM_ROUNDS = 2;
    @Override
    public String id() {
        return "W1";
    }

    @Override
    public String description() {
        return "bulk converge: 100,000 identity entries (~300 bytes) written on A in batches of 1,000;\n"
                + "      time until B, empty at the start, has A's digest. Load and replication entries/s, MB/s;\n"
                + "      then C, an empty member cut off from A during the load, catches up from A alone;\n"
                + "      limits: RocksDB write-batch rate, TLS loopback byte rate";
    }

    @Override
    public Result run(Path dir, Limits limits, boolean quick, SharedFixtures shared) throws Exception {
        int entries = quick ? 2_000 : 100_000;
        try (BenchCluster c = new BenchCluster(dir)) {
            c.init("a", true);
            c.init("b", false);
            c.init("c", false);
            c.pull("b", "a");
            // C reaches A through a relay that cuts it off while A loads: then it catches up alone.
            FaultyLink link = c.pullThroughRelay("c", "a");
            var nodes = c.start("1g", "a", "b", "c");
            NodeHandle a = nodes.get(0);
            NodeHandle b = nodes.get(1);
            NodeHandle cNode = nodes.get(2);
            a.call("define", Duration.ofSeconds(30));
            BenchCluster.join(Duration.ofSeconds(60), b, cNode);
            link.set(FaultyLink.Mode.CUT);
            long bytesBefore = Long.parseLong(b.call("received", Duration.ofSeconds(10)).split(" ")[0]);

            long t0 = System.nanoTime();
            String[] load = a.call("load " + entries + " 1000 w1-", Duration.ofMinutes(20)).split(" ");
            b.call("await-entry " + load[1] + " " + Duration.ofMinutes(20).toMillis(), Duration.ofMinutes(21));
            double converge = (System.nanoTime() - t0) / 1e9;
            double loadSeconds = Double.parseDouble(load[0]);

            String[] digest = BenchCluster.awaitSameDigest(Duration.ofSeconds(60), a, b);
            if (Long.parseLong(digest[1]) != entries) {
                throw new IllegalStateException("B holds " + digest[1] + " entries, not " + entries + "; no figure is printed");
            }
            long bytes = Long.parseLong(b.call("received", Duration.ofSeconds(10)).split(" ")[0]) - bytesBefore;

            // Catch-up: C, a member holding nothing, is connected again to A, which holds the
            // entries and does nothing else; C pulls them alone. Its JVM has not run this path yet.
            CatchUp cold = catchUp(link, a, cNode, load[1], entries);

            // The same twice more on the same processes, the last one measured: the first round ran
            // on cold JVMs, whose JIT compilers took about one of the two cores throughout; the
            // third shows nodes that have been running for a while.
            String[] warmLoad = null;
            double warmConverge = 0;
            link.set(FaultyLink.Mode.CUT);
            for (int round = 2; round <= WARM_ROUNDS + 1; round++) {
                long w0 = System.nanoTime();
                warmLoad = a.call("load " + entries + " 1000 w1r" + round + "-", Duration.ofMinutes(20)).split(" ");
                b.call("await-entry " + warmLoad[1] + " " + Duration.ofMinutes(20).toMillis(), Duration.ofMinutes(21));
                warmConverge = (System.nanoTime() - w0) / 1e9;
            }
            long warmEntries = Long.parseLong(BenchCluster.awaitSameDigest(Duration.ofSeconds(60), a, b)[1]);
            long total = (WARM_ROUNDS + 1L) * entries;
            if (warmEntries != total) {
                throw new IllegalStateException("B holds " + warmEntries + " entries after " + (WARM_ROUNDS + 1) + " rounds, not " + total
                        + "; no figure is printed");
            }
            // The warm rounds' entries, caught up by C with a JVM that has run the path once.
            CatchUp warm = catchUp(link, a, cNode, warmLoad[1], total);
            double warmLoadRate = entries / Double.parseDouble(warmLoad[0]);
            double warmReplRate = entries / warmConverge;

            double loadRate = entries / loadSeconds;
            double replRate = entries / converge;
            double mb = bytes / converge / 1e6;
            return Result.builder(id(), "bulk converge")
                    .parameter("entries", entries).parameter("batch", 1000).parameter("entry_bytes_approx", 300)
                    .figure("load_entries_per_second", loadRate)
                    .figure("converge_seconds", converge)
                    .figure("catch_up_after_load_seconds", Math.max(0, converge - loadSeconds))
                    .figure("replication_entries_per_second", replRate)
                    .figure("replication_mb_per_second", mb)
                    .figure("replicated_bytes", bytes)
                    .figure("warm_load_entries_per_second", warmLoadRate)
                    .figure("warm_converge_seconds", warmConverge)
                    .figure("warm_replication_entries_per_second", warmReplRate)
                    .figure("catch_up_entries", cold.entries())
                    .figure("catch_up_seconds", cold.seconds())
                    .figure("catch_up_entries_per_second", cold.perSecond())
                    .figure("catch_up_mb_per_second", cold.megabytesPerSecond())
                    .figure("warm_catch_up_entries", warm.entries())
                    .figure("warm_catch_up_seconds", warm.seconds())
                    .figure("warm_catch_up_entries_per_second", warm.perSecond())
                    .figure("warm_catch_up_mb_per_second", warm.megabytesPerSecond())
                    .limit("rocksdb_entries_per_second", limits.rocksDbEntriesPerSecond())
                    .limit("tls_mb_per_second", limits.tlsMegabytesPerSecond())
                    .ratio("load_to_rocksdb", loadRate / limits.rocksDbEntriesPerSecond())
                    .ratio("replication_to_rocksdb", replRate / limits.rocksDbEntriesPerSecond())
                    .ratio("replication_to_tls", mb / limits.tlsMegabytesPerSecond())
                    .ratio("warm_replication_to_rocksdb", warmReplRate / limits.rocksDbEntriesPerSecond())
                    .ratio("catch_up_to_rocksdb", cold.perSecond() / limits.rocksDbEntriesPerSecond())
                    .ratio("catch_up_to_tls", cold.megabytesPerSecond() / limits.tlsMegabytesPerSecond())
                    .ratio("warm_catch_up_to_rocksdb", warm.perSecond() / limits.rocksDbEntriesPerSecond())
                    .ratio("warm_catch_up_to_tls", warm.megabytesPerSecond() / limits.tlsMegabytesPerSecond())
                    .check("digests_equal", true).check("entries_on_b", entries).check("entries_on_c_after_catch_up", entries)
                    .check("entries_on_c_after_warm_catch_up", total).check("entries_on_b_after_warm_rounds", (WARM_ROUNDS + 1) * entries)
                    .line("load on A", "%,.0f entries/s (%.0f%% of RocksDB raw)", loadRate, 100 * loadRate / limits.rocksDbEntriesPerSecond())
                    .line("converged on B", "%.2f s after the first write (%.2f s after the last)", converge, Math.max(0, converge - loadSeconds))
                    .line("replication", "%,.0f entries/s, %.1f MB/s (%.0f%% of RocksDB raw, %.1f%% of TLS)", replRate, mb,
                            100 * replRate / limits.rocksDbEntriesPerSecond(), 100 * mb / limits.tlsMegabytesPerSecond())
                    .line("catch-up, one way", "C, an empty member cut off during the load: %,d entries in %.2f s, %,.0f entries/s, %.1f MB/s (%.0f%% of RocksDB raw, %.1f%% of TLS)",
                            cold.entries(), cold.seconds(), cold.perSecond(), cold.megabytesPerSecond(), 100 * cold.perSecond() / limits.rocksDbEntriesPerSecond(),
                            100 * cold.megabytesPerSecond() / limits.tlsMegabytesPerSecond())
                    .line("3rd round, warm JVMs", "load %,.0f entries/s; converged %.2f s after the first write: %,.0f entries/s (%.0f%% of raw)",
                            warmLoadRate, warmConverge, warmReplRate, 100 * warmReplRate / limits.rocksDbEntriesPerSecond())
                    .line("catch-up, warm", "C again, after the warm rounds: %,d entries in %.2f s, %,.0f entries/s, %.1f MB/s (%.0f%% of RocksDB raw, %.1f%% of TLS)",
                            warm.entries(), warm.seconds(), warm.perSecond(), warm.megabytesPerSecond(), 100 * warm.perSecond() / limits.rocksDbEntriesPerSecond(),
                            100 * warm.megabytesPerSecond() / limits.tlsMegabytesPerSecond())
                    .line("check", "digests equal, %,d entries on B, then %,d", entries, (WARM_ROUNDS + 1) * entries)
                    .memory(c.memory())
                    .build();
        }
    }

    private record CatchUp(long entries, double seconds, long bytes) {
        double perSecond() {
            return entries / seconds;
        }

        double megabytesPerSecond() {
            return bytes / seconds / 1e6;
        }
    }

    /**
     * Connects C to A again and times, from that moment, its pull of everything A wrote meanwhile:
     * the last entry written must be there and C must then hold A's digest with {@code expected}
     * entries.
     */
    private static CatchUp catchUp(FaultyLink link, NodeHandle a, NodeHandle c, String lastEntry, long expected) throws InterruptedException {
        long before = Long.parseLong(c.call("received", Duration.ofSeconds(10)).split(" ")[0]);
        long entriesBefore = Long.parseLong(c.call("digest", Duration.ofSeconds(60)).split(" ")[1]);
        long t0 = System.nanoTime();
        link.set(FaultyLink.Mode.PASS);
        // C's agreement is backing off after the cut: a sync connects at once, as an operator's would.
        c.call("sync " + Duration.ofMinutes(20).toMillis(), Duration.ofMinutes(21));
        c.call("await-entry " + lastEntry + " " + Duration.ofMinutes(20).toMillis(), Duration.ofMinutes(21));
        double seconds = (System.nanoTime() - t0) / 1e9;
        long bytes = Long.parseLong(c.call("received", Duration.ofSeconds(10)).split(" ")[0]) - before;
        String[] digest = BenchCluster.awaitSameDigest(Duration.ofSeconds(60), a, c);
        if (Long.parseLong(digest[1]) != expected) {
            throw new IllegalStateException("C holds " + digest[1] + " entries after catching up, not " + expected + "; no figure is printed");
        }
        return new CatchUp(expected - entriesBefore, seconds, bytes);
    }
}
