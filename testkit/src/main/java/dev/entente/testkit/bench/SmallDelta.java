package dev.entente.testkit.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * W4: A and B are converged on a big database; A commits 10 new entries; the time until B holds
 * them (A's commit, its notification, B's incremental pull and commit), 20 rounds, on a small and
 * a big database, to show the time does not grow with the database.
 */
final class SmallDelta implements Workload {
    @Override
    public String id() {
        return "W4";
    }

    @Override
    public String description() {
        return "small delta on a big database: A and B converged on 1,000,000 entries (and, apart, on 10,000);\n"
                + "      10 new entries on A; time until B holds them, median and p99 of 20 rounds; limit: TLS round trip";
    }

    @Override
    public Result run(Path dir, Limits limits, boolean quick, SharedFixtures shared) throws Exception {
        int small = quick ? 1_000 : 10_000;
        int big = quick ? 5_000 : 1_000_000;
        int rounds = quick ? 5 : 20;
        Rounds smallRun;
        try (BigDatabase db = BigDatabase.create(dir.resolve("small"), small)) {
            smallRun = rounds(db, rounds, quick);
        }
        BigDatabase db = shared.bigDatabase(big);
        Rounds bigRun = rounds(db, rounds, quick);
        double[] smallRounds = smallRun.measured();
        double[] bigRounds = bigRun.measured();
        double smallMedian = Percentile.nearestRank(smallRounds, 0.5);
        double bigMedian = Percentile.nearestRank(bigRounds, 0.5);
        return Result.builder(id(), "small delta on a big database")
                .parameter("entries_big", big).parameter("entries_small", small).parameter("delta_entries", 10).parameter("rounds", rounds)
                .parameter("warm_up_rounds_big", bigRun.warmUp()).parameter("warm_up_rounds_small", smallRun.warmUp()).parameter("heap_cap_mb", 256)
                .figure("median_ms_big", bigMedian).figure("p99_ms_big", Percentile.nearestRank(bigRounds, 0.99))
                .figure("median_ms_small", smallMedian).figure("p99_ms_small", Percentile.nearestRank(smallRounds, 0.99))
                .figure("big_database_load_seconds", db.loadSeconds)
                .limit("tls_round_trip_ms", limits.tlsRoundTripMillis())
                .ratio("median_big_to_small", bigMedian / smallMedian)
                .ratio("median_big_to_tls_round_trip", bigMedian / limits.tlsRoundTripMillis())
                .check("digests_equal", true).check("every_round_arrived", true)
                .line("on " + String.format("%,d", big), "median %.2f ms, p99 %.2f ms (%d rounds of 10 entries, after %d unmeasured)", bigMedian, Percentile.nearestRank(bigRounds, 0.99), rounds, bigRun.warmUp())
                .line("on " + String.format("%,d", small), "median %.2f ms, p99 %.2f ms; big/small %.2f", smallMedian, Percentile.nearestRank(smallRounds, 0.99),
                        bigMedian / smallMedian)
                .line("limit", "TLS round trip %.3f ms", limits.tlsRoundTripMillis())
                .line("check", "digests equal after the rounds, on both sizes")
                .memory(db.cluster.memory())
                .build();
    }

    /** Milliseconds from asking A to commit 10 entries to B holding them, per round. */
    private record Rounds(double[] measured, int warmUp) {
    }

    private static Rounds rounds(BigDatabase db, int rounds, boolean quick) throws Exception {
        // Unmeasured rounds first, in blocks as many as measured: the code paths of a small pull
        // are not the ones a load warms up, and the JVMs that just loaded a million entries are
        // still compiling. Blocks go on until neither node's compilers worked over WARM_JIT_MS in one.
        JitWarmUp.Outcome warm = JitWarmUp.run(List.of(db.a, db.b), WARM_JIT_MS, quick ? 1 : MAX_WARM_BLOCKS, block -> {
            for (int r = 0; r < rounds; r++) {
                round(db, "warm" + block + "-" + r);
            }
        });
        double[] measured = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            measured[r] = round(db, "measured-" + r);
        }
        BenchCluster.awaitSameDigest(Duration.ofSeconds(120), db.a, db.b);
        Arrays.sort(measured);
        return new Rounds(measured, warm.blocks() * rounds);
    }

    /** A block of warm-up rounds after which neither node's JIT compilers worked more than this is the last. */
    static final long WARM_JIT_MS = 100;
    /** At most about a minute: a block of 20 rounds takes 1.2 to 2 s. */
    static final int MAX_WARM_BLOCKS = 30;

    /** One round: 10 entries named {@code delta-<name>-...} committed on A, awaited on B; its milliseconds. */
    private static double round(BigDatabase db, String name) throws Exception {
        long t0 = System.nanoTime();
        String last = db.a.call("load 10 10 delta-" + name + "-", Duration.ofSeconds(30)).split(" ")[1];
        db.b.call("await-entry " + last + " 30000", Duration.ofSeconds(35));
        double millis = (System.nanoTime() - t0) / 1e6;
        Thread.sleep(50);
        return millis;
    }
}
