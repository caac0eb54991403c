package dev.entente.engine;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.Cid;
import dev.entente.engine.merge.EntryState;
import dev.entente.engine.merge.Merge;
import dev.entente.engine.merge.ResolvedEntry;
import dev.entente.engine.merge.Version;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Joins a change into one entry and keeps everything derived from entry states in step, in the
 * same batch: the unique-value index, the conflict flags (entry, uniqueness, validation) and the
 * reap index of tombstones and discards. Local writes and remote changes both go through here, so
 * the derived state cannot depend on where a change came from.
 */
final class EntryWriter {

    /**
     * @param kind what became visible: null when nothing did
     * @param newlyConflicted whether the entry gained a conflict flag
     */
    record Outcome(FeedEvent.Kind kind, Optional<ResolvedEntry> before, Optional<ResolvedEntry> after, boolean newlyConflicted) {
        static final Outcome NONE = new Outcome(null, Optional.empty(), Optional.empty(), false);
    }

    private final CommitBatch batch;
    private final long pruneBefore;
    private final Map<String, EntryValidator> validators;
    private final boolean remote;
    /** Other entries whose conflict flags, and so their visibility, a change altered. */
    private final java.util.LinkedHashSet<CommitBatch.EntryKey> alsoChanged = new java.util.LinkedHashSet<>();
    private final UniquenessConflicts uniqueness;

    /** The other entries whose visibility the changes applied since the last call altered. */
    List<CommitBatch.EntryKey> drainAlsoChanged() {
        List<CommitBatch.EntryKey> out = new ArrayList<>(alsoChanged);
        alsoChanged.clear();
        return out;
    }

    /**
     * @param pruneBefore the reaped horizon: what is older was reaped or forgotten here
     * @param remote whether the changes come from another node (see {@link #withoutReapedVersions})
     */
    EntryWriter(CommitBatch batch, long pruneBefore, Map<String, EntryValidator> validators, boolean remote) {
        this.batch = batch;
        this.pruneBefore = pruneBefore;
        this.validators = validators;
        this.remote = remote;
        this.uniqueness = new UniquenessConflicts(batch, alsoChanged);
    }

    /**
     * Drops the parts of a remote change that touch a version this node no longer has and that
     * was created before the reaped horizon: such a version was deleted or discarded and then
     * reaped here (a change concurrent with that deletion is still travelling). Joining the change
     * would bring part of a deleted entry back. Had this node simply never received that version's
     * creation, it would be behind the window for its origin, and the RUV tells it to refresh.
     *
     * @return the rest of the change, or null when nothing is left
     */
    private EntryState withoutReapedVersions(EntryState old, EntryState delta) {
        if (!(delta instanceof EntryState.Live live) || old instanceof EntryState.Tombstone) {
            return delta;
        }
        java.util.TreeMap<Cid, Version> kept = null;
        for (Version v : live.versions().values()) {
            boolean known = old instanceof EntryState.Live ol && ol.versions().containsKey(v.created());
            if (!known && v.created().hlc() < pruneBefore) {
                if (kept == null) {
                    kept = new java.util.TreeMap<>(live.versions());
                }
                kept.remove(v.created());
            }
        }
        if (kept == null) {
            return delta;
        }
        return kept.isEmpty() ? null : new EntryState.Live(kept);
    }

    static Schema schemaOf(CommitBatch batch, String namespace) {
        Namespace ns = batch.namespace(namespace);
        return ns == null ? Schema.EMPTY : ns.schema();
    }

    Outcome apply(String namespace, UUID id, EntryState delta) {
        EntryState old = batch.entry(namespace, id);
        if (remote) {
            delta = withoutReapedVersions(old, delta);
            if (delta == null) {
                return Outcome.NONE;
            }
        }
        EntryState merged = Merge.join(old, delta).pruneRemovedBefore(pruneBefore);
        if (merged.equals(old)) {
            return Outcome.NONE;
        }
        Schema schema = schemaOf(batch, namespace);
        Optional<ResolvedEntry> before = old == null ? Optional.empty() : ResolvedEntry.resolve(old, schema.mergeConcurrentCreates());
        Optional<ResolvedEntry> after = ResolvedEntry.resolve(merged, schema.mergeConcurrentCreates());
        batch.putEntry(namespace, id, merged);
        indexForReaping(namespace, id, old, merged);

        boolean wasConflicted = batch.flags(namespace, id).any();
        uniqueness.update(namespace, id, schema, before, after);
        boolean entryConflict = after.map(ResolvedEntry::hasEntryConflict).orElse(false);
        // Only this method writes the entry's own flags from here on, so f follows them without
        // reading them back from the batch.
        ConflictFlags f = batch.flags(namespace, id);
        if (f.entryConflict() != entryConflict) {
            f = f.withEntryConflict(entryConflict);
            batch.putFlags(namespace, id, f);
        }
        String problem = validate(namespace, id, after);
        if (!Objects.equals(f.invalid(), problem)) {
            f = f.withInvalid(problem);
            batch.putFlags(namespace, id, f);
        }
        boolean newlyConflicted = !wasConflicted && f.any();
        return new Outcome(kind(old, merged, before, after), before, after, newlyConflicted);
    }

    /** What the namespace's validator says of the resolved entry; null when valid or unchecked. */
    String validate(String namespace, UUID id, Optional<ResolvedEntry> resolved) {
        EntryValidator validator = validators.get(namespace);
        if (validator == null || resolved.isEmpty()) {
            return null;
        }
        ResolvedEntry r = resolved.get();
        try {
            return validator.problem(new Entry(namespace, id, r.created(), new Attributes(r.attributes(), true))).orElse(null);
        } catch (RuntimeException e) {
            // A validator that throws must not stop replication: the entry is flagged instead.
            return "the validator of namespace '" + namespace + "' failed: " + e;
        }
    }

    private static FeedEvent.Kind kind(EntryState old, EntryState merged, Optional<ResolvedEntry> before, Optional<ResolvedEntry> after) {
        if (before.isEmpty() && after.isPresent()) {
            return FeedEvent.Kind.CREATED;
        }
        if (after.isEmpty()) {
            boolean newTombstone = merged instanceof EntryState.Tombstone && !(old instanceof EntryState.Tombstone);
            return before.isPresent() || newTombstone ? FeedEvent.Kind.DELETED : null;
        }
        return before.equals(after) ? null : FeedEvent.Kind.MODIFIED;
    }

    private void indexForReaping(String namespace, UUID id, EntryState old, EntryState merged) {
        if (merged instanceof EntryState.Tombstone t) {
            if (!(old instanceof EntryState.Tombstone ot) || !ot.deleted().equals(t.deleted())) {
                batch.put(batch.store.reap, Keys.reap(t.deleted().hlc(), namespace, id), new byte[0]);
            }
            return;
        }
        Set<Cid> alreadyDiscarded = new HashSet<>();
        if (old instanceof EntryState.Live ol) {
            for (Version v : ol.versions().values()) {
                if (v.isDiscarded()) {
                    alreadyDiscarded.add(v.created());
                }
            }
        }
        for (Version v : ((EntryState.Live) merged).versions().values()) {
            if (v.isDiscarded() && !alreadyDiscarded.contains(v.created())) {
                batch.put(batch.store.reap, Keys.reap(v.discarded().hlc(), namespace, id), new byte[0]);
            }
        }
    }

    /**
     * Recomputes the unique index and conflict flags of a whole namespace from its entries, after
     * its schema changed.
     *
     * @param strict refuse (a local schema change) rather than flag (a replicated one) values that
     *     the new schema's unique attributes would make clash
     */
    void rebuildNamespace(String namespace, boolean strict) {
        Schema schema = schemaOf(batch, namespace);
        Map<UUID, EntryState> all = batch.entriesOf(namespace);
        batch.wipeDerived(namespace);
        Map<CommitBatch.UniqueKey, List<UUID>> groups = new java.util.HashMap<>();
        for (Map.Entry<UUID, EntryState> e : all.entrySet()) {
            Optional<ResolvedEntry> r = ResolvedEntry.resolve(e.getValue(), schema.mergeConcurrentCreates());
            if (r.isEmpty()) {
                continue;
            }
            for (String attribute : schema.uniqueAttributes()) {
                for (ByteString v : r.get().attributes().getOrDefault(attribute, List.of())) {
                    groups.computeIfAbsent(new CommitBatch.UniqueKey(namespace, attribute, v), k -> new ArrayList<>()).add(e.getKey());
                }
            }
            ConflictFlags f = ConflictFlags.NONE.withEntryConflict(r.get().hasEntryConflict())
                    .withInvalid(validate(namespace, e.getKey(), r));
            if (f.any()) {
                batch.putFlags(namespace, e.getKey(), f);
            }
        }
        for (Map.Entry<CommitBatch.UniqueKey, List<UUID>> g : groups.entrySet()) {
            List<UUID> holders = g.getValue();
            holders.sort(null);
            CommitBatch.UniqueKey k = g.getKey();
            if (holders.size() >= 2) {
                if (strict) {
                    throw new SchemaViolationException(namespace, "attribute '" + k.attribute() + "' cannot become unique: entries "
                            + holders.get(0) + " and " + holders.get(1) + " share the value '" + k.value().toStringUtf8()
                            + "'. Change one of them first");
                }
                for (UUID h : holders) {
                    batch.putFlags(namespace, h, batch.flags(namespace, h).withClash(k.attribute(), k.value(), true));
                }
            }
            batch.putUniqueHolders(namespace, k.attribute(), k.value(), holders);
        }
    }
}
