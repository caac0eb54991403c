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

    SnapshotImport(Engine engine, String supplier, Path path) {
        this.engine = engine;
        this.supplier = supplier;
        this.path = path;
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
        return header == null ? 0 : header.getEstimatedEntries() + header.getEstimatedChanges();
    }

    /** Adds one chunk, in the order the supplier produced them. */
    public void accept(ByteString chunkBytes) {
        if (done || trailerSeen) {
            throw new IllegalStateException("refresh from '" + supplier + "' has already " + (done ? "ended" : "received its last chunk"));
        }
        Wire.SnapshotChunk chunk;
        try {
            chunk = Wire.SnapshotChunk.parseFrom(chunkBytes);
        } catch (InvalidProtocolBufferException e) {
            throw new MalformedChangeException("refresh chunk from '" + supplier + "' cannot be decoded: " + e.getMessage(), e);
        }
        if (header == null) {
            if (!chunk.hasHeader()) {
                throw new MalformedChangeException("refresh from '" + supplier + "' did not start with a snapshot header");
            }
            header = chunk.getHeader();
            if (header.getFormat() != SnapshotExport.FORMAT) {
                throw new MalformedChangeException("refresh from '" + supplier + "' uses snapshot format " + header.getFormat()
                        + "; this node reads format " + SnapshotExport.FORMAT + ". Run the same Entente version on both nodes");
            }
            engine.clock().checkSkew(header.getMaxHlc(), "the snapshot", supplier);
            aside = engine.openAside(path, Keys.uuid(header.getDomain().toByteArray()));
        } else if (chunk.hasHeader()) {
            throw new MalformedChangeException("refresh from '" + supplier + "' sent a second snapshot header");
        }
        try (CommitBatch b = new CommitBatch(aside)) {
            for (Wire.NamespaceState ns : chunk.getNamespacesList()) {
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
            EntryWriter writer = new EntryWriter(b, header.getReapedHorizon(), engine.options().validators(), false);
            for (Wire.StoredEntry e : chunk.getEntriesList()) {
                String ns = Names.checkNamespace(e.getNamespace());
                UUID id = Keys.uuid(e.getId().toByteArray());
                EntryState state = WireCodec.state(e.getState().toByteArray());
                writer.apply(ns, id, state);
                entries++;
            }
            for (ByteString record : chunk.getChangesList()) {
                Wire.ChangeRecord r;
                try {
                    r = Wire.ChangeRecord.parseFrom(record);
                } catch (InvalidProtocolBufferException ex) {
                    throw new MalformedChangeException("refresh from '" + supplier + "' holds a change record that cannot be decoded: " + ex.getMessage(), ex);
                }
                b.put(aside.changelog, Keys.change(WireCodec.origin(r.getOrigin()), r.getHlc()), record.toByteArray());
                changes++;
            }
            b.commit();
        }
        if (chunk.hasTrailer()) {
            Wire.SnapshotTrailer t = chunk.getTrailer();
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
        if (!trailerSeen) {
            throw new IllegalStateException("refresh from '" + supplier + "' has not received its last chunk; nothing was changed");
        }
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
