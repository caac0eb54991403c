package dev.entente.engine;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.Cid;
import dev.entente.engine.merge.AttributeState;
import dev.entente.engine.merge.EntryState;
import dev.entente.engine.merge.Merge;
import dev.entente.engine.merge.Register;
import dev.entente.engine.merge.ResolvedEntry;
import dev.entente.engine.merge.ValueMarks;
import dev.entente.engine.merge.ValueSet;
import dev.entente.engine.merge.Values;
import dev.entente.engine.merge.Version;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Turns the operations of one local transaction into a change: per touched entry version, the
 * attribute states that the transaction's CID now wins, checked against the rules a local write
 * must keep (existence, limits, uniqueness, validation, schema compatibility).
 *
 * <p>Operations on the same entry within a transaction fold into one delta per version, computed
 * against the state before the transaction, so that a later operation simply replaces an earlier
 * one (they share one CID, and the join could not order them).
 */
final class LocalWriter {

    private static final class PendingVersion {
        final Cid created;
        final TreeMap<String, AttributeState> attributes = new TreeMap<>();
        Cid discarded;

        PendingVersion(Cid created) {
            this.created = created;
        }

        Version toVersion() {
            return new Version(created, attributes, discarded);
        }
    }

    private final class PendingEntry {
        final String namespace;
        final UUID id;
        final EntryState stored;
        final Optional<ResolvedEntry> storedView;
        boolean live;
        boolean deleted;
        Cid owner;
        final Map<String, AttributeState> overrides = new HashMap<>();
        final LinkedHashMap<Cid, PendingVersion> versions = new LinkedHashMap<>();
        /** What writing this entry's delta did, once {@link #finish} has written it. */
        EntryWriter.Outcome outcome;

        PendingEntry(String namespace, UUID id) {
            this.namespace = namespace;
            this.id = id;
            this.stored = batch.entry(namespace, id);
            this.storedView = stored == null ? Optional.empty() : ResolvedEntry.resolve(stored, schema(namespace).mergeConcurrentCreates());
            this.live = storedView.isPresent();
            this.deleted = stored instanceof EntryState.Tombstone;
            this.owner = storedView.map(ResolvedEntry::created).orElse(null);
        }

        /** The attribute as it stood before this transaction (joined over versions when they merge). */
        AttributeState before(String attribute) {
            if (!(stored instanceof EntryState.Live l) || owner == null || owner.equals(cid)) {
                return null;
            }
            if (!schema(namespace).mergeConcurrentCreates()) {
                Version v = l.versions().get(owner);
                return v == null ? null : v.attributes().get(attribute);
            }
            AttributeState joined = null;
            for (Version v : l.versions().values()) {
                AttributeState a = v.attributes().get(attribute);
                if (a != null && !v.isDiscarded()) {
                    joined = joined == null ? a : Merge.join(joined, a);
                }
            }
            return joined;
        }

        AttributeState current(String attribute) {
            return overrides.containsKey(attribute) ? overrides.get(attribute) : before(attribute);
        }
    }

    private final CommitBatch batch;
    private final EntryWriter writer;
    private final Cid cid;
    private final EngineOptions options;
    private final LinkedHashMap<CommitBatch.EntryKey, PendingEntry> pending = new LinkedHashMap<>();
    private final Map<String, Namespace> redefined = new LinkedHashMap<>();
    private final Map<String, Namespace> previousDefinitions = new HashMap<>();

    LocalWriter(CommitBatch batch, EntryWriter writer, Cid cid, EngineOptions options) {
        this.batch = batch;
        this.writer = writer;
        this.cid = cid;
        this.options = options;
    }

    /** Reads, in one go, every entry and unique-index group the operations are about to touch. */
    static void prefetch(CommitBatch batch, List<WriteOp> ops) {
        List<CommitBatch.EntryKey> entries = new ArrayList<>(ops.size());
        List<CommitBatch.UniqueKey> unique = new ArrayList<>();
        for (WriteOp op : ops) {
            if (op instanceof WriteOp.Create c) {
                entries.add(new CommitBatch.EntryKey(c.namespace(), c.id()));
                Namespace ns = batch.namespace(c.namespace());
                if (ns != null) {
                    for (String attribute : ns.schema().uniqueAttributes()) {
                        for (ByteString v : c.attributes().raw().getOrDefault(attribute, List.of())) {
                            unique.add(new CommitBatch.UniqueKey(c.namespace(), attribute, v));
                        }
                    }
                }
            } else if (op instanceof WriteOp.Modify m) {
                entries.add(new CommitBatch.EntryKey(m.namespace(), m.id()));
            } else if (op instanceof WriteOp.Delete d) {
                entries.add(new CommitBatch.EntryKey(d.namespace(), d.id()));
            } else if (op instanceof WriteOp.DiscardConflict d) {
                entries.add(new CommitBatch.EntryKey(d.namespace(), d.id()));
            }
        }
        batch.prefetch(entries, unique);
    }

    private Schema schema(String namespace) {
        Namespace ns = batch.namespace(namespace);
        if (ns == null) {
            throw new UnknownNamespaceException(namespace);
        }
        return ns.schema();
    }

    private PendingEntry pendingFor(String namespace, UUID id) {
        schema(namespace);
        return pending.computeIfAbsent(new CommitBatch.EntryKey(namespace, id), k -> new PendingEntry(namespace, id));
    }

    void apply(WriteOp op) {
        if (op instanceof WriteOp.DefineNamespace d) {
            define(d);
        } else if (op instanceof WriteOp.Create c) {
            create(c);
        } else if (op instanceof WriteOp.Modify m) {
            modify(m);
        } else if (op instanceof WriteOp.Delete d) {
            delete(d);
        } else {
            discard((WriteOp.DiscardConflict) op);
        }
    }

    private void define(WriteOp.DefineNamespace d) {
        Namespace existing = batch.namespace(d.namespace());
        if (existing != null && existing.schema().equals(d.schema())) {
            return;
        }
        if (!previousDefinitions.containsKey(d.namespace())) {
            previousDefinitions.put(d.namespace(), existing);
        }
        Namespace ns = new Namespace(d.namespace(), d.schema(), cid);
        batch.putNamespace(ns);
        redefined.put(d.namespace(), ns);
    }

    private void create(WriteOp.Create c) {
        PendingEntry p = pendingFor(c.namespace(), c.id());
        if (p.live || p.deleted || p.stored != null) {
            throw new EntryExistsException(c.namespace(), c.id(), p.deleted);
        }
        Schema schema = schema(c.namespace());
        PendingVersion v = new PendingVersion(cid);
        for (Map.Entry<String, List<ByteString>> a : c.attributes().raw().entrySet()) {
            checkValues(c.namespace(), c.id(), a.getKey(), a.getValue());
            AttributeState state;
            if (schema.isSet(a.getKey())) {
                TreeMap<ByteString, ValueMarks> marks = new TreeMap<>(Values.ORDER);
                for (ByteString value : a.getValue()) {
                    marks.put(value, new ValueMarks(cid, null));
                }
                state = new ValueSet(marks);
            } else {
                state = new Register(cid, a.getValue());
            }
            v.attributes.put(a.getKey(), state);
            p.overrides.put(a.getKey(), state);
        }
        p.versions.put(cid, v);
        p.live = true;
        p.owner = cid;
    }

    private void modify(WriteOp.Modify m) {
        PendingEntry p = pendingFor(m.namespace(), m.id());
        if (!p.live) {
            throw new EntryNotFoundException(m.namespace(), m.id(), p.deleted ? "is deleted" : "does not exist");
        }
        Schema schema = schema(m.namespace());
        PendingVersion v = p.versions.computeIfAbsent(p.owner, PendingVersion::new);
        for (AttributeChange change : m.changes()) {
            String attribute = change.attribute();
            AttributeState current = p.current(attribute);
            List<ByteString> present = current == null ? List.of() : current.presentValues();
            List<ByteString> desired = desired(change, present);
            if (desired.equals(present)) {
                continue;
            }
            checkValues(m.namespace(), m.id(), attribute, desired);
            boolean setMode = current instanceof ValueSet || schema.isSet(attribute);
            AttributeState delta;
            AttributeState working;
            if (!setMode) {
                delta = new Register(cid, desired);
                working = delta;
            } else if (current instanceof Register) {
                // The schema made this a set after it was written as a register: a set state
                // replaces the register whole (see Merge), so write every desired value.
                TreeMap<ByteString, ValueMarks> marks = new TreeMap<>(Values.ORDER);
                desired.forEach(value -> marks.put(value, new ValueMarks(cid, null)));
                delta = new ValueSet(marks);
                working = delta;
            } else {
                AttributeState before = p.before(attribute);
                Map<ByteString, ValueMarks> beforeMarks = before instanceof ValueSet bs ? bs.values() : Map.of();
                TreeMap<ByteString, ValueMarks> marks = new TreeMap<>(Values.ORDER);
                if (v.attributes.get(attribute) instanceof ValueSet earlier) {
                    marks.putAll(earlier.values());
                }
                Set<ByteString> presentSet = new TreeSet<>(Values.ORDER);
                presentSet.addAll(present);
                Set<ByteString> desiredSet = new TreeSet<>(Values.ORDER);
                desiredSet.addAll(desired);
                for (ByteString value : desired) {
                    if (!presentSet.contains(value)) {
                        ValueMarks b = beforeMarks.get(value);
                        marks.put(value, new ValueMarks(cid, b == null ? null : b.removed()));
                    }
                }
                for (ByteString value : present) {
                    if (!desiredSet.contains(value)) {
                        ValueMarks b = beforeMarks.get(value);
                        if (b != null && b.present()) {
                            marks.put(value, new ValueMarks(b.added(), cid));
                        } else {
                            marks.remove(value);
                        }
                    }
                }
                delta = new ValueSet(marks);
                // The working state overrides the values this transaction touched, per value.
                TreeMap<ByteString, ValueMarks> workingMarks = new TreeMap<>(Values.ORDER);
                workingMarks.putAll(beforeMarks);
                workingMarks.putAll(marks);
                working = new ValueSet(workingMarks);
            }
            boolean replacesRegister = setMode && p.before(attribute) instanceof Register;
            if (delta instanceof ValueSet s && s.values().isEmpty() && !replacesRegister) {
                v.attributes.remove(attribute);
            } else {
                v.attributes.put(attribute, delta);
            }
            p.overrides.put(attribute, working);
        }
        if (v.attributes.isEmpty() && v.discarded == null && !v.created.equals(cid)) {
            p.versions.remove(p.owner);
        }
    }

    private static List<ByteString> desired(AttributeChange change, List<ByteString> present) {
        if (change instanceof AttributeChange.Set s) {
            return Attributes.unwrap(s.values());
        }
        if (change instanceof AttributeChange.Add a) {
            List<ByteString> all = new ArrayList<>(present);
            all.addAll(Attributes.unwrap(a.values()));
            return Values.canonical(all);
        }
        if (change instanceof AttributeChange.Remove r) {
            Set<ByteString> gone = new TreeSet<>(Values.ORDER);
            gone.addAll(Attributes.unwrap(r.values()));
            List<ByteString> kept = new ArrayList<>();
            for (ByteString v : present) {
                if (!gone.contains(v)) {
                    kept.add(v);
                }
            }
            return Values.canonical(kept);
        }
        return List.of();
    }

    private void delete(WriteOp.Delete d) {
        PendingEntry p = pendingFor(d.namespace(), d.id());
        if (!p.live) {
            throw new EntryNotFoundException(d.namespace(), d.id(), p.deleted ? "is already deleted" : "does not exist");
        }
        p.versions.clear();
        p.overrides.clear();
        p.live = false;
        p.deleted = true;
    }

    private void discard(WriteOp.DiscardConflict d) {
        PendingEntry p = pendingFor(d.namespace(), d.id());
        if (schema(d.namespace()).mergeConcurrentCreates()) {
            throw new InvalidWriteException("namespace '" + d.namespace() + "' merges concurrent creates, so entry " + d.id()
                    + " has no conflict versions to discard");
        }
        Optional<Version> conflict = p.storedView.flatMap(r -> r.conflicts().stream().filter(v -> v.created().equals(d.created())).findFirst());
        if (p.deleted || conflict.isEmpty()) {
            throw new EntryNotFoundException(d.namespace(), d.id(), "has no conflict version created at " + d.created()
                    + (p.storedView.isPresent() && p.storedView.get().created().equals(d.created())
                    ? ": that version owns the id; modify or delete the entry instead" : ""));
        }
        p.versions.computeIfAbsent(d.created(), PendingVersion::new).discarded = cid;
    }

    private void checkValues(String namespace, UUID id, String attribute, List<ByteString> values) {
        for (ByteString v : values) {
            if (v.size() > options.maxValueBytes()) {
                throw new LimitExceededException("a value of attribute '" + attribute + "' of entry " + id + " in namespace '" + namespace + "'",
                        v.size(), options.maxValueBytes(), "maxValueBytes");
            }
        }
    }

    /** Joins every delta into the batch, checks the local-write rules, and returns the change. */
    Change finish(long prevHlc, List<FeedEvent.Change> touches) {
        for (Namespace ns : redefined.values()) {
            touches.add(new FeedEvent.Change(FeedEvent.Kind.NAMESPACE, ns.name(), null));
        }
        List<Change.EntryDelta> deltas = new ArrayList<>(pending.size());
        List<PendingEntry> written = new ArrayList<>(pending.size());
        for (PendingEntry p : pending.values()) {
            EntryState delta;
            if (p.deleted && !(p.stored instanceof EntryState.Tombstone)) {
                delta = new EntryState.Tombstone(cid);
                deltas.add(new Change.EntryDelta(p.namespace, p.id, delta));
            } else if (p.versions.size() == 1) {
                // The same object in the record and in the store lets the commit reuse its encoding.
                delta = EntryState.Live.of(p.versions.values().iterator().next().toVersion());
                deltas.add(new Change.EntryDelta(p.namespace, p.id, delta));
            } else if (!p.versions.isEmpty()) {
                TreeMap<Cid, Version> versions = new TreeMap<>();
                for (PendingVersion v : p.versions.values()) {
                    Version version = v.toVersion();
                    versions.put(version.created(), version);
                    deltas.add(new Change.EntryDelta(p.namespace, p.id, EntryState.Live.of(version)));
                }
                delta = new EntryState.Live(versions);
            } else {
                continue;
            }
            EntryWriter.Outcome o = writer.apply(p.namespace, p.id, delta);
            written.add(p);
            p.outcome = o;
            if (o.kind() != null) {
                touches.add(new FeedEvent.Change(o.kind(), p.namespace, p.id));
            }
        }
        // Checked after every entry is written, so that a transaction may swap unique values.
        for (PendingEntry p : written) {
            EntryWriter.Outcome o = p.outcome;
            if (o.after().isEmpty() || redefined.containsKey(p.namespace)) {
                continue;
            }
            Schema schema = schema(p.namespace);
            for (String attribute : schema.uniqueAttributes()) {
                List<ByteString> before = o.before().map(r -> r.attributes().getOrDefault(attribute, List.of())).orElse(List.of());
                for (ByteString value : o.after().get().attributes().getOrDefault(attribute, List.of())) {
                    if (before.contains(value)) {
                        continue;
                    }
                    for (UUID holder : batch.uniqueHolders(p.namespace, attribute, value)) {
                        if (!holder.equals(p.id)) {
                            throw new UniquenessViolationException(p.namespace, attribute, value.toStringUtf8(), holder);
                        }
                    }
                }
            }
            String problem = writer.validate(p.namespace, p.id, o.after());
            if (problem != null) {
                throw new ValidationException(p.namespace, p.id, problem);
            }
        }
        for (CommitBatch.EntryKey k : writer.drainAlsoChanged()) {
            touches.add(new FeedEvent.Change(FeedEvent.Kind.MODIFIED, k.namespace(), k.id()));
        }
        for (Namespace ns : redefined.values()) {
            checkKindChanges(ns, previousDefinitions.get(ns.name()));
            writer.rebuildNamespace(ns.name(), true);
        }
        if (redefined.isEmpty() && deltas.isEmpty()) {
            return null;
        }
        return new Change(cid, prevHlc, List.copyOf(redefined.values()), deltas);
    }

    /** An attribute may switch between register and set only while no entry has ever written it. */
    private void checkKindChanges(Namespace ns, Namespace previous) {
        if (previous == null) {
            return;
        }
        Set<String> changed = new LinkedHashSet<>(previous.schema().setAttributes());
        changed.addAll(ns.schema().setAttributes());
        Set<String> both = new TreeSet<>(previous.schema().setAttributes());
        both.retainAll(ns.schema().setAttributes());
        changed.removeAll(both);
        if (changed.isEmpty()) {
            return;
        }
        for (Map.Entry<UUID, EntryState> e : batch.entriesOf(ns.name()).entrySet()) {
            if (!(e.getValue() instanceof EntryState.Live l)) {
                continue;
            }
            for (Version v : l.versions().values()) {
                for (String attribute : changed) {
                    if (v.attributes().containsKey(attribute)) {
                        throw new SchemaViolationException(ns.name(), "attribute '" + attribute + "' would change between register and set, but entry "
                                + e.getKey() + " has already written it. Kinds can only change for attributes no entry has written: use a new attribute name");
                    }
                }
            }
        }
    }
}
