package dev.entente.engine;

/**
 * Replication between two engines in one process, with no transport: the supplier/consumer
 * exchange a network session carries, done by direct calls. The demo, tests and the simulator
 * use it; a node uses the same engine calls over TLS.
 */
public final class InProcessReplication {
    private InProcessReplication() {
    }

    /**
     * @param applied records the consumer applied
     * @param skipped records it already had
     * @param batches batches sent
     * @param bytes record bytes sent
     */
    public record PullResult(long applied, long skipped, long batches, long bytes, long newConflicts) {
    }

    /**
     * One incremental pull of {@code consumer} from {@code supplier}, until the consumer covers
     * the supplier's RUV.
     *
     * @throws RefreshRequiredException when the supplier says the consumer must be refreshed; the
     *     consumer is then marked as requiring refresh
     */
    public static PullResult pull(Engine consumer, String consumerName, Engine supplier, String supplierName, int batchRecords) {
        // A node that must be refreshed asks for a refresh, never for changes: its RUV would make a
        // healthy supplier believe it is the stale side.
        consumer.refreshRequired().ifPresent(reason -> {
            throw new RefreshRequiredException("'" + consumerName + "' must be refreshed before it pulls changes: " + reason);
        });
        ChangeStream stream;
        try {
            stream = supplier.supplyChanges(consumer.ruv(), consumerName);
        } catch (RefreshRequiredException e) {
            if (supplier.refreshRequired().isEmpty()) {
                consumer.markRefreshRequired(e.getMessage());
            }
            throw e;
        }
        long applied = 0;
        long skipped = 0;
        long batches = 0;
        long bytes = 0;
        long conflicts = 0;
        try (stream) {
            ChangeBatch b;
            while ((b = stream.next(batchRecords, 4L << 20)) != null) {
                ApplyResult r = consumer.applyChanges(b, supplierName);
                applied += r.applied();
                skipped += r.skipped();
                conflicts += r.newConflicts();
                batches++;
                bytes += b.bytes();
            }
            var missing = consumer.missingFrom(stream.supplierRuv());
            if (!missing.isEmpty()) {
                throw new IllegalStateException("after pulling from '" + supplierName + "', '" + consumerName + "' still lacks " + missing);
            }
        }
        return new PullResult(applied, skipped, batches, bytes, conflicts);
    }

    /** Replaces {@code consumer}'s content by a snapshot of {@code supplier}'s. */
    public static OriginId refresh(Engine consumer, String consumerName, Engine supplier, String supplierName, long chunkBytes) {
        try (SnapshotExport export = supplier.exportSnapshot(consumerName);
             SnapshotImport imp = consumer.beginRefresh(supplierName)) {
            com.google.protobuf.ByteString chunk;
            while ((chunk = export.nextChunk(chunkBytes)) != null) {
                imp.accept(chunk);
            }
            return imp.complete();
        }
    }
}
