package dev.entente.testkit.bench;

import java.nio.file.Path;
import java.time.Duration;

/**
 * W5: a new node joins the domain by refreshing a big database from a member, every JVM capped
 * at 256 MB of heap; the time from the new node's start until it is a member, the snapshot's
 * MB/s, and each JVM's peak heap during the refresh.
 */
final class Refresh implements Workload {
    @Override
    public String id() {
        return "W5";
    }

    @Override
    public String description() {
        return "refresh: a new node refreshes 1,000,000 entries from a member, heaps capped at 256 MB;\n"
                + "      seconds, MB/s, each JVM's peak heap; limits: TLS loopback byte rate, RocksDB write-batch rate";
    }

    @Override
    public Result run(Path dir, Limits limits, boolean quick, SharedFixtures shared) throws Exception {
        int entries = quick ? 5_000 : 1_000_000;
        BigDatabase db = shared.bigDatabase(entries);
        db.a.call("heap-reset", Duration.ofSeconds(30));
        NodeHandle c = db.cluster.start(BigDatabase.HEAP, "c").get(0);
        double seconds = Double.parseDouble(c.call("member " + Duration.ofMinutes(30).toMillis(), Duration.ofMinutes(31)));
        double supplierHeap = Double.parseDouble(db.a.call("heap", Duration.ofSeconds(10)));
        double consumerHeap = Double.parseDouble(c.call("heap", Duration.ofSeconds(10)));
        long bytes = Long.parseLong(c.call("received", Duration.ofSeconds(10)).split(" ")[0]);
        String[] digest = BenchCluster.awaitSameDigest(Duration.ofMinutes(2), db.a, c);
        long held = Long.parseLong(digest[1]);
        if (held < entries) {
            throw new IllegalStateException("the new node holds " + held + " entries, fewer than " + entries + "; no figure is printed");
        }
        double mb = bytes / seconds / 1e6;
        double rate = held / seconds;
        return Result.builder(id(), "refresh")
                .parameter("entries", held).parameter("heap_cap_mb", 256)
                .figure("seconds", seconds).figure("entries_per_second", rate).figure("mb_per_second", mb)
                .figure("snapshot_bytes", bytes)
                .figure("peak_heap_mb_supplier", supplierHeap / 1e6).figure("peak_heap_mb_consumer", consumerHeap / 1e6)
                .limit("tls_mb_per_second", limits.tlsMegabytesPerSecond())
                .limit("rocksdb_entries_per_second", limits.rocksDbEntriesPerSecond())
                .ratio("mb_to_tls", mb / limits.tlsMegabytesPerSecond())
                .ratio("entries_to_rocksdb", rate / limits.rocksDbEntriesPerSecond())
                .check("digests_equal", true).check("entries_on_new_node", held)
                .line("refreshed", "%,d entries in %.1f s from the new node's start: %,.0f entries/s, %.1f MB/s", held, seconds, rate, mb)
                .line("peak heap", "supplier %.0f MB, new node %.0f MB (both capped at 256 MB)", supplierHeap / 1e6, consumerHeap / 1e6)
                .line("ratios", "%.1f%% of TLS, %.0f%% of RocksDB raw", 100 * mb / limits.tlsMegabytesPerSecond(),
                        100 * rate / limits.rocksDbEntriesPerSecond())
                .line("check", "the new node's digest equals the member's")
                .memory(db.cluster.memory())
                .build();
    }
}
