package dev.entente.engine;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.OriginId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;

/**
 * The supplier side of an incremental pull: the changelog records a consumer lacks, read from a
 * consistent snapshot and merged across origins in CID order, handed out in bounded batches.
 *
 * <p>For each origin it seeks straight to the first record after the consumer's {@code max}, so the
 * work is proportional to what is sent, never to the size of the database. Records are the stored
 * wire bytes, not decoded or re-encoded.
 */
public final class ChangeStream implements AutoCloseable {

    private record Head(OriginId origin, long hlc, RocksIterator iterator, long until) {
    }

    private final Store store;
    private final Snapshot snapshot;
    private final ReadOptions readOptions;
    private final Ruv supplierRuv;
    private final PriorityQueue<Head> heads = new PriorityQueue<>((a, b) -> {
        int c = Long.compare(a.hlc, b.hlc);
        return c != 0 ? c : a.origin.compareTo(b.origin);
    });
    private final List<RocksIterator> iterators = new ArrayList<>();
    private long recordsRead;
    private long seeks;
    private boolean closed;

    /**
     * Called with the commit lock held, so the snapshot and the RUV agree; takes over one store reference.
     */
    ChangeStream(Store store, Ruv consumerRuv) {
        this.store = store;
        this.snapshot = store.db.getSnapshot();
        this.readOptions = new ReadOptions().setSnapshot(snapshot).setFillCache(true);
        this.supplierRuv = store.ruv;
        for (Map.Entry<OriginId, Ruv.Range> e : supplierRuv.origins().entrySet()) {
            long from = consumerRuv.max(e.getKey());
            long until = e.getValue().max();
            if (until <= from) {
                continue;
            }
            RocksIterator it = store.iterator(store.changelog, readOptions);
            iterators.add(it);
            it.seek(Keys.change(e.getKey(), from + 1));
            seeks++;
            advance(e.getKey(), it, until);
        }
    }

    private void advance(OriginId origin, RocksIterator it, long until) {
        if (!it.isValid()) {
            return;
        }
        byte[] key = it.key();
        if (!Keys.changeOrigin(key).equals(origin)) {
            return;
        }
        long hlc = Keys.changeHlc(key);
        if (hlc > until) {
            return;
        }
        heads.add(new Head(origin, hlc, it, until));
    }

    /**
     * The next batch: at most {@code maxRecords} records and, beyond its first record, at most
     * {@code maxBytes} bytes. Null when everything has been sent.
     */
    public ChangeBatch next(int maxRecords, long maxBytes) {
        if (closed) {
            throw new IllegalStateException("change stream is closed");
        }
        List<ByteString> records = new ArrayList<>(Math.min(maxRecords, 1024));
        long bytes = 0;
        while (!heads.isEmpty() && records.size() < maxRecords) {
            Head h = heads.peek();
            byte[] value = h.iterator.value();
            if (!records.isEmpty() && bytes + value.length > maxBytes) {
                break;
            }
            heads.poll();
            records.add(ByteString.copyFrom(value));
            bytes += value.length;
            recordsRead++;
            h.iterator.next();
            advance(h.origin, h.iterator, h.until);
        }
        return records.isEmpty() ? null : new ChangeBatch(records, bytes);
    }

    /** The supplier's RUV at the snapshot: after the last batch the consumer should cover it. */
    public Ruv supplierRuv() {
        return supplierRuv;
    }

    /** Changelog records read so far (the stream's work, for tests and metrics). */
    public long recordsRead() {
        return recordsRead;
    }

    /** Iterator seeks made: one per origin with something to send. */
    public long seeks() {
        return seeks;
    }

    /** The store's sequence number this stream reads at: what must be durable before it is sent. */
    long snapshotSequence() {
        return snapshot.getSequenceNumber();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        iterators.forEach(RocksIterator::close);
        readOptions.close();
        store.db.releaseSnapshot(snapshot);
        store.release();
    }
}
