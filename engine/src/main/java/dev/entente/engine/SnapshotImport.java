package dev.entente.engine;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.merge.EntryState;
import dev.entente.protocol.Wire;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The consumer side of a refresh: builds the supplier's snapshot into a new store beside the
 * active one, recomputing the unique index and conflict flags as the entries arrive. Only
 * {@link #complete()} switches the node to it, atomically; closing an import that did not
 * complete deletes the half-built store and leaves the node as it was.
 */
public final class SnapshotImport implements AutoCloseable {

    private final Engine engine;
    private final String supplier;
    private final Path path;
    private Store aside;
    private Wire.SnapshotHeader header;
    private long namespaces;
    private long entries;
    private long changes;
    private boolean trailerSeen;
    private boolean done;
    /** The entries and the changelog, written into sorted files and ingested when the snapshot is complete. */
    private BulkLoad entryFiles;
    private BulkLoad changeFiles;
    /** The header's RUV: no change record of the snapshot may lie beyond it. */
    private Ruv headerRuv;
    /** The key of the last entry received: entries arrive in strictly increasing key order. */
    private byte[] lastEntryKey;
    private String lastNamespace;
    /** Why a chunk failed: half of it may be written, so the import can only be closed. */
    private RuntimeException failure;

    SnapshotImport(Engine engine, String supplier, Path path) {
        this.engine = engine;
        this.supplier = supplier;
        this.path = path;
    }

    /**
     * The changelog key of a change record: its origin and HLC, read from its top-level fields,
     * the others skipped by their lengths. A refresh stores records as the supplier stored them
     * (it applies the entries' states, not the records), so decoding every entry change of every
     * record here, as parsing it whole did, cost as much as decoding the entries themselves; the
     * record is decoded whole where it is applied, on any node that pulls it.
     */
    private byte[] changeKey(byte[] record) {
        long hlc = 0;
        long prevHlc = 0;
        ByteString origin = null;
        try {
            com.google.protobuf.CodedInputStream in = com.google.protobuf.CodedInputStream.newInstance(record);
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (tag) {
                    case (1 << 3) | com.google.protobuf.WireFormat.WIRETYPE_FIXED64 -> hlc = in.readFixed64();
                    case (2 << 3) | com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED -> origin = in.readBytes();
                    case (3 << 3) | com.google.protobuf.WireFormat.WIRETYPE_FIXED64 -> prevHlc = in.readFixed64();
                    default -> {
                        if (!in.skipField(tag)) {
                            throw new InvalidProtocolBufferException("an end-group tag where none was opened");
                        }
                    }
                }
            }
        } catch (java.io.IOException ex) {
            throw new MalformedChangeException("refresh from '" + supplier + "' holds a change record that cannot be decoded: " + ex.getMessage(), ex);
        }
        if (origin == null || hlc <= 0) {
            throw new MalformedChangeException("refresh from '" + supplier + "' holds a change record without its origin or HLC");
        }
        OriginId o = WireCodec.origin(origin);
        Ruv.Range held = headerRuv.origins().get(o);
        // The cheap checks a record's top-level fields allow: it follows its predecessor, and the
        // snapshot's RUV covers it (a record beyond it would be served to this node's consumers
        // as a change no RUV accounts for).
        if (prevHlc < 0 || prevHlc >= hlc || held == null || hlc > held.max()) {
            throw new MalformedChangeException("refresh from '" + supplier + "' holds a change record of origin " + o + " at " + hlc
                    + " that its own RUV does not cover or that does not follow its predecessor (" + prevHlc + ")");
        }
        return Keys.change(o, hlc);
    }

    /** Entries and changelog records imported so far. */
    public long records() {
        return entries + changes;
    }

    /**
     * The entries and changelog records the supplier estimated its snapshot holds (0 before its
     * header, or when it gave none): for progress only, as the supplier's word is never checked.
     */
    public long estimatedRecords() {
        if (header == null) {
            return 0;
        }
        // uint64 on the wire: a value past Long.MAX_VALUE reads negative here; either is no estimate.
        long e = Math.max(0, header.getEstimatedEntries());
        long c = Math.max(0, header.getEstimatedChanges());
        return e > Long.MAX_VALUE - c ? Long.MAX_VALUE : e + c;
    }

    /** Adds one chunk, in the order the supplier produced them. */
    public void accept(ByteString chunkBytes) {
        if (failure != null) {
            throw new IllegalStateException("refresh from '" + supplier + "' failed earlier (" + failure.getMessage() + "); close it", failure);
        }
        if (done || trailerSeen) {
            throw new IllegalStateException("refresh from '" + supplier + "' has already " + (done ? "ended" : "received its last chunk"));
        }
        try {
            acceptChunk(chunkBytes);
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        }
    }

    private void acceptChunk(ByteString chunkBytes) {
        SnapshotChunkReader chunk;
        try {
            chunk = SnapshotChunkReader.read(chunkBytes);
        } catch (InvalidProtocolBufferException e) {
            throw new MalformedChangeException("refresh chunk from '" + supplier + "' cannot be decoded: " + e.getMessage(), e);
        }
        if (header == null) {
            if (chunk.header == null) {
                throw new MalformedChangeException("refresh from '" + supplier + "' did not start with a snapshot header");
            }
            header = chunk.header;
            if (header.getFormat() != SnapshotExport.FORMAT) {
                throw new MalformedChangeException("refresh from '" + supplier + "' uses snapshot format " + header.getFormat()
                        + "; this node reads format " + SnapshotExport.FORMAT + ". Run the same Entente version on both nodes");
            }
            engine.clock().checkSkew(header.getMaxHlc(), "the snapshot", supplier);
            headerRuv = Ruv.fromWire(header.getRuv());
            aside = engine.openAside(path, Keys.uuid(header.getDomain().toByteArray()));
            aside.unlogged(true);
            entryFiles = new BulkLoad(aside, aside.entries, "entries of the snapshot from '" + supplier + "'", path.resolve("bulk-entries"));
            changeFiles = new BulkLoad(aside, aside.changelog, "changelog records of the snapshot from '" + supplier + "'", path.resolve("bulk-changelog"));
        } else if (chunk.header != null) {
            throw new MalformedChangeException("refresh from '" + supplier + "' sent a second snapshot header");
        }
        try (CommitBatch b = new CommitBatch(aside)) {
            for (Wire.NamespaceState ns : chunk.namespaces) {
                b.putNamespace(WireCodec.namespace(ns, null));
                namespaces++;
            }
            if (!b.namespaceChanges().isEmpty()) {
                // Entries are resolved with their namespace's schema: publish it before they arrive.
                b.commit();
                java.util.TreeMap<String, Namespace> m = new java.util.TreeMap<>(aside.namespaceMap);
                m.putAll(b.namespaceChanges());
                aside.namespaceMap = java.util.Collections.unmodifiableSortedMap(m);
            }
        }
        try (CommitBatch b = new CommitBatch(aside)) {
            b.entriesTo(entryFiles);
            EntryWriter writer = new EntryWriter(b, header.getReapedHorizon(), engine.options().validators(), false);
            for (SnapshotChunkReader.StoredEntry e : chunk.entries) {
                // A run of entries shares one namespace string (SnapshotChunkReader): checked once.
                String ns = e.namespace() == lastNamespace ? lastNamespace : Names.checkNamespace(e.namespace());
                lastNamespace = ns;
                UUID id = Keys.uuid(e.id());
                byte[] key = Keys.entry(ns, id);
                if (lastEntryKey != null && java.util.Arrays.compareUnsigned(key, lastEntryKey) <= 0) {
                    throw new MalformedChangeException("the entries of the snapshot from '" + supplier + "' arrived out of order (entry " + id
                            + " of namespace " + ns + " repeats or goes back): the snapshot is malformed");
                }
                lastEntryKey = key;
                byte[] stored = e.state();
                EntryState state = WireCodec.state(stored);
                // Stored as received when the state needed no change here (the usual case).
                b.offerStored(ns, id, key, state, stored);
                writer.apply(ns, id, state);
                entries++;
            }
            for (byte[] record : chunk.changes) {
                changeFiles.put(changeKey(record), record);
                changes++;
            }
            b.commit();
        }
        if (chunk.trailer != null) {
            Wire.SnapshotTrailer t = chunk.trailer;
            if (t.getNamespaces() != namespaces || t.getEntries() != entries || t.getChanges() != changes) {
                throw new MalformedChangeException("refresh from '" + supplier + "' ended with " + t.getNamespaces() + " namespaces, "
                        + t.getEntries() + " entries and " + t.getChanges() + " changes announced, but " + namespaces + ", " + entries
                        + " and " + changes + " arrived");
            }
            trailerSeen = true;
        }
    }

    /**
     * Switches the node to the imported store: it becomes a clone of the supplier with a new origin
     * id of its own, in the supplier's domain.
     *
     * @return the node's new origin id
     */
    public OriginId complete() {
        if (done) {
            throw new IllegalStateException("refresh from '" + supplier + "' has already ended");
        }
        if (!trailerSeen || failure != null) {
            throw new IllegalStateException("refresh from '" + supplier + "' has not received its last chunk; nothing was changed");
        }
        entryFiles.ingest();
        changeFiles.ingest();
        Ruv ruv = Ruv.fromWire(header.getRuv());
        try (CommitBatch b = new CommitBatch(aside)) {
            ruv.origins().forEach((o, r) -> b.put(aside.meta, Keys.ruv(o), Store.ruvValue(r)));
            b.put(aside.meta, Keys.meta(Keys.Meta.REAPED_HORIZON), Keys.longBytes(header.getReapedHorizon()));
            b.commit();
        }
        aside.ruv = ruv;
        aside.reapedHorizon = header.getReapedHorizon();
        try {
            engine.switchTo(aside, header.getMaxHlc());
        } finally {
            // Once the engine runs on the new store it owns it: closing this import must not touch it.
            done = engine.isActive(aside);
        }
        return aside.origin;
    }

    /** Entries received so far. */
    public long entries() {
        return entries;
    }

    @Override
    public void close() {
        if (entryFiles != null) {
            entryFiles.close();
            changeFiles.close();
        }
        if (!done) {
            done = true;
            try {
                if (aside != null) {
                    aside.markForDeletion();
                    aside.close();
                } else {
                    engine.discardAside(path);
                }
            } finally {
                engine.importEnded();
            }
        } else if (!released) {
            engine.importEnded();
        }
        released = true;
    }

    private boolean released;
}
