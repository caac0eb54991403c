package dev.entente.testkit.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * W2: three nodes in a full mesh take a steady stream of single-entry commits spread over all
 * three; every node measures, for each change it receives, the time from its commit on the
 * origin to its commit here.
 */
final class SteadyLag implements Workload {
    @Override
    public String id() {
        return "W2";
    }

    @Override
    public String description() {
        return "steady lag: three nodes in a full mesh, 2,000 writes/s spread over the three for 30 s;\n"
                + "      commit-to-visible lag p50, p99, max on every other node, CPU used; limit: TLS round trip";
    }

    @Override
    public Result run(Path dir, Limits limits, boolean quick, SharedFixtures shared) throws Exception {
        int rate = quick ? 300 : 2000;
        int seconds = quick ? 3 : 30;
        List<String> names = List.of("a", "b", "c");
        try (BenchCluster c = new BenchCluster(dir)) {
            c.init("a", true);
            c.init("b", false);
            c.init("c", false);
            for (String consumer : names) {
                // a joining node's first agreement is with the founder, which can refresh it
                for (String supplier : names) {
                    if (!supplier.equals(consumer)) {
                        c.pull(consumer, supplier);
                    }
                }
            }
            List<NodeHandle> nodes = c.start("1g", "a", "b", "c");
            nodes.get(0).call("define", Duration.ofSeconds(30));
            BenchCluster.join(Duration.ofSeconds(120), nodes.toArray(NodeHandle[]::new));

            // Unmeasured warm-up at the same rate: a node serving for a while has its code compiled.
            // Rounds of 20 s go on until every node's compilers worked under WARM_JIT_MS in one.
            int perNode = rate / 3;
            int round = quick ? 1 : 20;
            for (NodeHandle n : nodes) {
                // Measured during the warm-up too, and thrown away, so that the measuring code is
                // compiled before the window like the rest.
                n.call("lag-start", Duration.ofSeconds(10));
            }
            JitWarmUp.Outcome warm = JitWarmUp.run(nodes, WARM_JIT_MS, quick ? 1 : MAX_WARM_SECONDS / round, block -> {
                for (NodeHandle n : nodes) {
                    n.send("write-rate " + perNode + " " + round + " w2warm" + block + "-" + n.name + "-");
                }
                for (NodeHandle n : nodes) {
                    n.answer("write-rate", Duration.ofSeconds(round + 120));
                }
            });
            int warmSeconds = warm.blocks() * round;
            long lastRoundJit = warm.lastBlockJitMillis();
            BenchCluster.awaitSameDigest(Duration.ofSeconds(60), nodes.toArray(NodeHandle[]::new));

            long[] cpuBefore = new long[3];
            for (int i = 0; i < 3; i++) {
                nodes.get(i).call("lag-start", Duration.ofSeconds(10));
                cpuBefore[i] = Long.parseLong(nodes.get(i).call("cpu", Duration.ofSeconds(10)));
            }
            long[] jit = JitWarmUp.jitMillis(nodes);
            long t0 = System.nanoTime();
            for (NodeHandle n : nodes) {
                n.send("write-rate " + perNode + " " + seconds + " w2-" + n.name + "-");
            }
            long written = 0;
            for (NodeHandle n : nodes) {
                written += Long.parseLong(n.answer("write-rate", Duration.ofSeconds(seconds + 120)).split(" ")[0]);
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            long[] jitAfter = JitWarmUp.jitMillis(nodes);
            long jitDuring = 0;
            for (int i = 0; i < 3; i++) {
                jitDuring += jitAfter[i] - jit[i];
            }
            double[] cpu = new double[3];
            for (int i = 0; i < 3; i++) {
                cpu[i] = (Long.parseLong(nodes.get(i).call("cpu", Duration.ofSeconds(10))) - cpuBefore[i]) / 1e9;
            }
            BenchCluster.awaitSameDigest(Duration.ofSeconds(60), nodes.toArray(NodeHandle[]::new));

            List<Long> all = new ArrayList<>();
            double[] p99 = new double[3];
            for (int i = 0; i < 3; i++) {
                Path file = dir.resolve(names.get(i) + "-lags.txt");
                nodes.get(i).call("lag-stop " + file, Duration.ofSeconds(60));
                List<Long> mine = Files.readAllLines(file).stream().map(Long::parseLong).sorted().toList();
                p99[i] = Percentile.nearestRank(mine.stream().mapToDouble(Long::doubleValue).toArray(), 0.99);
                all.addAll(mine);
            }
            all.sort(null);
            if (all.size() != 2 * written) {
                throw new IllegalStateException("the nodes saw " + all.size() + " remote changes, not " + 2 * written
                        + " (each of the " + written + " writes on both other nodes); no figure is printed");
            }
            double[] sorted = all.stream().mapToDouble(Long::doubleValue).toArray();
            double p50 = Percentile.nearestRank(sorted, 0.5);
            double p99all = Percentile.nearestRank(sorted, 0.99);
            double max = all.get(all.size() - 1);
            double cpuTotal = cpu[0] + cpu[1] + cpu[2];
            return Result.builder(id(), "steady lag")
                    .parameter("nodes", 3).parameter("topology", "full mesh").parameter("writes_per_second", perNode * 3)
                    .parameter("seconds", seconds).parameter("warm_up_seconds", warmSeconds).parameter("entries_per_commit", 1)
                    .figure("writes", written).figure("write_seconds", wall)
                    .figure("lag_p50_ms", p50).figure("lag_p99_ms", p99all).figure("lag_max_ms", max)
                    .figure("lag_p99_ms_a", p99[0]).figure("lag_p99_ms_b", p99[1]).figure("lag_p99_ms_c", p99[2])
                    .figure("cpu_cores_used", cpuTotal / wall)
                    .figure("cpu_seconds_a", cpu[0]).figure("cpu_seconds_b", cpu[1]).figure("cpu_seconds_c", cpu[2])
                    .figure("jit_ms_last_warm_up_round", lastRoundJit).figure("jit_ms_during_measure", jitDuring)
                    .limit("tls_round_trip_ms", limits.tlsRoundTripMillis())
                    .limit("cores", Runtime.getRuntime().availableProcessors())
                    .ratio("lag_p50_to_tls_round_trip", p50 / limits.tlsRoundTripMillis())
                    .ratio("cpu_to_cores", cpuTotal / wall / Runtime.getRuntime().availableProcessors())
                    .check("digests_equal", true).check("remote_changes_seen", all.size())
                    .line("writes", "%,d in %.1f s (%d/s on each of 3 nodes, one entry per commit), after %d s of warm-up",
                            written, wall, perNode, warmSeconds)
                    .line("commit to visible", "p50 %.0f ms, p99 %.0f ms, max %.0f ms (p99 per node: a %.0f, b %.0f, c %.0f)",
                            p50, p99all, max, p99[0], p99[1], p99[2])
                    .line("CPU", "%.2f cores of %d (a %.1f s, b %.1f s, c %.1f s); JIT compilers %,d ms of it (last warm-up round: %,d ms in the busiest node)",
                            cpuTotal / wall, Runtime.getRuntime().availableProcessors(), cpu[0], cpu[1], cpu[2], jitDuring, lastRoundJit)
                    .line("limit", "TLS round trip %.3f ms", limits.tlsRoundTripMillis())
                    .line("check", "digests equal; each write seen once on both other nodes (%,d)", all.size())
                    .memory(c.memory())
                    .build();
        }
    }

    /** A warm-up round after which every node's JIT compilers worked less than this is the last. */
    static final long WARM_JIT_MS = 500;
    static final int MAX_WARM_SECONDS = 120;
}
