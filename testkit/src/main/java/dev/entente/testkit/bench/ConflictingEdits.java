package dev.entente.testkit.bench;

import dev.entente.testkit.chaos.FaultyLink;

import dev.entente.engine.clock.Cid;
import dev.entente.engine.clock.OriginId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * W3: two nodes holding the same entries are partitioned by a relay that cuts their links; each
 * sets the same attribute of every entry to its own value; the partition heals. Figures: the time
 * until the digests are equal; the check: every entry holds, on both, the value written with the
 * higher CID.
 */
final class ConflictingEdits implements Workload {
    @Override
    public String id() {
        return "W3";
    }

    @Override
    public String description() {
        return "concurrent conflicting edits: A and B hold the same 10,000 entries, are partitioned, each sets\n"
                + "      'displayname' of all 10,000, the partition heals; time until the digests are equal, and a check\n"
                + "      that every entry holds the value with the higher CID on both; limit: RocksDB write-batch rate";
    }

    @Override
    public Result run(Path dir, Limits limits, boolean quick, SharedFixtures shared) throws Exception {
        int entries = quick ? 500 : 10_000;
        try (BenchCluster c = new BenchCluster(dir)) {
            c.init("a", true);
            c.init("b", false);
            FaultyLink toA = c.pullThroughRelay("b", "a");
            FaultyLink toB = c.pullThroughRelay("a", "b");
            var nodes = c.start("1g", "a", "b");
            NodeHandle a = nodes.get(0);
            NodeHandle b = nodes.get(1);
            a.call("define", Duration.ofSeconds(30));
            BenchCluster.join(Duration.ofSeconds(60), b, a);
            String[] load = a.call("load " + entries + " 1000 w3-", Duration.ofMinutes(10)).split(" ");
            b.call("await-entry " + load[1] + " " + Duration.ofMinutes(10).toMillis(), Duration.ofMinutes(11));
            BenchCluster.awaitSameDigest(Duration.ofSeconds(60), a, b);

            toA.set(FaultyLink.Mode.CUT);
            toB.set(FaultyLink.Mode.CUT);
            Path modsA = dir.resolve("a-modified.txt");
            Path modsB = dir.resolve("b-modified.txt");
            a.send("modify-all displayname from-a " + modsA);
            b.send("modify-all displayname from-b " + modsB);
            double modifyA = Double.parseDouble(a.answer("modify-all", Duration.ofMinutes(10)).split(" ")[1]);
            double modifyB = Double.parseDouble(b.answer("modify-all", Duration.ofMinutes(10)).split(" ")[1]);
            if (a.call("digest", Duration.ofMinutes(1)).equals(b.call("digest", Duration.ofMinutes(1)))) {
                throw new IllegalStateException("A and B agree while partitioned: the partition did not hold; no figure is printed");
            }

            toA.set(FaultyLink.Mode.PASS);
            toB.set(FaultyLink.Mode.PASS);
            long t0 = System.nanoTime();
            // After a network repair an operator runs 'entente sync': it retries now instead of
            // waiting out the backoff the failed connections built up.
            a.send("sync 120000");
            b.send("sync 120000");
            BenchCluster.syncAnswers(Duration.ofMinutes(2), a, b);
            String[] digest = BenchCluster.awaitSameDigest(Duration.ofMinutes(2), a, b);
            double converge = (System.nanoTime() - t0) / 1e9;

            Map<String, String> expected = winners(modsA, "from-a", modsB, "from-b");
            int winsA = (int) expected.values().stream().filter("from-a"::equals).count();
            for (NodeHandle n : nodes) {
                Path dump = dir.resolve(n.name + "-dump.txt");
                n.call("dump displayname " + dump, Duration.ofMinutes(2));
                Map<String, String> held = read(dump);
                if (held.size() != entries || !held.equals(expected)) {
                    long wrong = expected.entrySet().stream().filter(e -> !e.getValue().equals(held.get(e.getKey()))).count();
                    throw new IllegalStateException("on " + n.name + ", " + wrong + " of " + entries
                            + " entries do not hold the value written with the higher CID; no figure is printed");
                }
            }
            double rate = 2.0 * entries / converge;
            return Result.builder(id(), "concurrent conflicting edits")
                    .parameter("entries", entries).parameter("attribute", "displayname").parameter("batch", 1000)
                    .figure("converge_seconds", converge)
                    .figure("changes_exchanged_per_second", rate)
                    .figure("modify_seconds_a", modifyA).figure("modify_seconds_b", modifyB)
                    .figure("entries_won_by_a", winsA).figure("entries_won_by_b", entries - winsA)
                    .figure("conflict_entries", Long.parseLong(digest[3]))
                    .limit("rocksdb_entries_per_second", limits.rocksDbEntriesPerSecond())
                    .ratio("exchange_to_rocksdb", rate / limits.rocksDbEntriesPerSecond())
                    .check("digests_equal", true).check("higher_cid_wins_everywhere", true)
                    .line("partitioned", "A and B each set displayname of %,d entries (%.2f s, %.2f s)", entries, modifyA, modifyB)
                    .line("healed to equal", "%.2f s (%,.0f changes/s both ways; %.0f%% of RocksDB raw)", converge, rate,
                            100 * rate / limits.rocksDbEntriesPerSecond())
                    .line("winners", "A's value on %,d entries, B's on %,d; %s conflict entries", winsA, entries - winsA, digest[3])
                    .line("check", "digests equal; on both nodes every entry holds the value with the higher CID")
                    .memory(c.memory())
                    .build();
        }
    }

    /** For each entry, the value of the side whose change has the higher CID. */
    private static Map<String, String> winners(Path modsA, String valueA, Path modsB, String valueB) throws IOException {
        Map<String, Cid> cidA = cids(modsA);
        Map<String, Cid> cidB = cids(modsB);
        if (!cidA.keySet().equals(cidB.keySet())) {
            throw new IllegalStateException("A and B did not modify the same entries; no figure is printed");
        }
        Map<String, String> w = new HashMap<>();
        cidA.forEach((id, ca) -> w.put(id, ca.compareTo(cidB.get(id)) > 0 ? valueA : valueB));
        return w;
    }

    private static Map<String, Cid> cids(Path file) throws IOException {
        Map<String, Cid> m = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            String[] f = line.split(" ");
            m.put(f[0], new Cid(Long.parseLong(f[1]), OriginId.parse(f[2])));
        }
        return m;
    }

    private static Map<String, String> read(Path file) throws IOException {
        Map<String, String> m = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            int space = line.indexOf(' ');
            m.put(line.substring(0, space), line.substring(space + 1));
        }
        return m;
    }
}
