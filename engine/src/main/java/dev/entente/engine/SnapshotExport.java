package dev.entente.engine;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.entente.protocol.Ids;
import dev.entente.protocol.Wire;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;

/**
 * The supplier side of a refresh: a consistent snapshot of the replicated state (namespaces,
 * entry states with tombstones and conflicts, the changelog within the window, the RUV) as a
 * stream of bounded chunks. Derived state (unique index, conflict flags) is not sent: the
 * importer recomputes it from the entries.
 */
public final class SnapshotExport implements AutoCloseable {
    static final int FORMAT = 1;

    private enum Phase { HEADER, ENTRIES, CHANGES, TRAILER, DONE }

    private final Store store;
    private final Snapshot snapshot;
    private final ReadOptions readOptions;
    private final Wire.SnapshotHeader header;
    private final RocksIterator entries;
    private final RocksIterator changes;
    private Phase phase = Phase.HEADER;
    private long namespaceCount;
    private long entryCount;
    private long changeCount;
    private boolean closed;

    /** Called with the commit lock held, so the snapshot and the cached metadata agree; takes over one store reference. */
    SnapshotExport(Store store) {
        this.store = store;
        this.snapshot = store.db.getSnapshot();
        this.readOptions = new ReadOptions().setSnapshot(snapshot).setFillCache(false);
        this.header = Wire.SnapshotHeader.newBuilder().setFormat(FORMAT).setDomain(Ids.byteString(store.domain))
                .setRuv(store.ruv.toWire()).setMaxHlc(Math.max(store.hlc, store.ruv.maxHlc()))
                .setReapedHorizon(store.reapedHorizon)
                .setEstimatedEntries(store.estimatedKeys(store.entries)).setEstimatedChanges(store.estimatedKeys(store.changelog)).build();
        this.entries = store.iterator(store.entries, readOptions);
        this.changes = store.iterator(store.changelog, readOptions);
        entries.seekToFirst();
        changes.seekToFirst();
    }

    /** The supplier's RUV at the snapshot. */
    public Ruv ruv() {
        return Ruv.fromWire(header.getRuv());
    }

    /**
     * The next chunk, about {@code maxBytes} at most (a single item larger than that makes a chunk
     * of its own); null after the last.
     */
    public ByteString nextChunk(long maxBytes) {
        if (closed) {
            throw new IllegalStateException("snapshot export is closed");
        }
        Wire.SnapshotChunk.Builder chunk = Wire.SnapshotChunk.newBuilder();
        long size = 0;
        switch (phase) {
            case HEADER -> {
                chunk.setHeader(header);
                try (RocksIterator it = store.iterator(store.namespaces, readOptions)) {
                    for (it.seekToFirst(); it.isValid(); it.next()) {
                        chunk.addNamespaces(Wire.NamespaceState.parseFrom(it.value()));
                        namespaceCount++;
                    }
                } catch (InvalidProtocolBufferException e) {
                    throw new StoreException("a stored namespace of " + store.path + " is corrupt: " + e.getMessage(), e);
                }
                phase = Phase.ENTRIES;
                return chunk.build().toByteString();
            }
            case ENTRIES -> {
                for (; entries.isValid(); entries.next()) {
                    byte[] key = entries.key();
                    byte[] value = entries.value();
                    if (size > 0 && size + value.length + key.length > maxBytes) {
                        return chunk.build().toByteString();
                    }
                    chunk.addEntries(Wire.StoredEntry.newBuilder().setNamespace(Keys.entryNamespace(key))
                            .setId(ByteString.copyFrom(key, key.length - 16, 16)).setState(ByteString.copyFrom(value)));
                    size += value.length + key.length;
                    entryCount++;
                }
                phase = Phase.CHANGES;
                if (size > 0) {
                    return chunk.build().toByteString();
                }
                return nextChunk(maxBytes);
            }
            case CHANGES -> {
                for (; changes.isValid(); changes.next()) {
                    byte[] value = changes.value();
                    if (size > 0 && size + value.length > maxBytes) {
                        return chunk.build().toByteString();
                    }
                    chunk.addChanges(ByteString.copyFrom(value));
                    size += value.length;
                    changeCount++;
                }
                phase = Phase.TRAILER;
                if (size > 0) {
                    return chunk.build().toByteString();
                }
                return nextChunk(maxBytes);
            }
            case TRAILER -> {
                phase = Phase.DONE;
                return chunk.setTrailer(Wire.SnapshotTrailer.newBuilder().setNamespaces(namespaceCount)
                        .setEntries(entryCount).setChanges(changeCount)).build().toByteString();
            }
            default -> {
                return null;
            }
        }
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
        entries.close();
        changes.close();
        readOptions.close();
        store.db.releaseSnapshot(snapshot);
        store.release();
    }
}
