package dev.entente.engine.merge;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.Cid;
import java.util.Map;
import java.util.TreeMap;

/**
 * The join of replicated states: commutative, associative and idempotent, so nodes that have seen
 * the same changes in any order, any number of times, hold the same state.
 *
 * <ul>
 *   <li>Registers: the higher CID wins whole (an exact CID tie, which only a corrupted history can
 *       produce, is broken by the value lists so the join stays a join).</li>
 *   <li>Sets: per value, the maximum add CID and the maximum remove CID.</li>
 *   <li>A set state beats a register state of the same attribute: that only happens when a schema
 *       change turned the attribute into a set while another node was still writing it as a
 *       register, and the set is the schema's intent.</li>
 *   <li>Versions with the same created CID: attribute by attribute; a discard wins, the lower
 *       discard CID is kept.</li>
 *   <li>Entries: versions with different created CIDs are all kept (entry conflicts); a tombstone
 *       wins over any live state, and of two tombstones the lower CID is kept.</li>
 * </ul>
 */
public final class Merge {
    private Merge() {
    }

    public static EntryState join(EntryState a, EntryState b) {
        if (a == null) {
            return b;
        }
        if (b == null || a.equals(b)) {
            return a;
        }
        if (a instanceof EntryState.Tombstone ta) {
            return b instanceof EntryState.Tombstone tb ? new EntryState.Tombstone(Cid.min(ta.deleted(), tb.deleted())) : ta;
        }
        if (b instanceof EntryState.Tombstone) {
            return b;
        }
        EntryState.Live la = (EntryState.Live) a;
        EntryState.Live lb = (EntryState.Live) b;
        TreeMap<Cid, Version> versions = new TreeMap<>(la.versions());
        for (Version v : lb.versions().values()) {
            versions.merge(v.created(), v, Merge::join);
        }
        return new EntryState.Live(versions);
    }

    /** Joins two states of the version with the same created CID. */
    public static Version join(Version a, Version b) {
        if (!a.created().equals(b.created())) {
            throw new IllegalArgumentException("versions created at " + a.created() + " and " + b.created() + " are different versions");
        }
        if (a.isDiscarded() || b.isDiscarded()) {
            Cid discarded = a.isDiscarded() && b.isDiscarded() ? Cid.min(a.discarded(), b.discarded())
                    : a.isDiscarded() ? a.discarded() : b.discarded();
            return Version.discarded(a.created(), discarded);
        }
        TreeMap<String, AttributeState> attributes = new TreeMap<>(a.attributes());
        for (Map.Entry<String, AttributeState> e : b.attributes().entrySet()) {
            attributes.merge(e.getKey(), e.getValue(), Merge::join);
        }
        return new Version(a.created(), attributes, null);
    }

    public static AttributeState join(AttributeState a, AttributeState b) {
        if (a instanceof Register ra) {
            if (b instanceof Register rb) {
                return join(ra, rb);
            }
            return b;
        }
        if (b instanceof ValueSet sb) {
            return join((ValueSet) a, sb);
        }
        return a;
    }

    static Register join(Register a, Register b) {
        int c = a.cid().compareTo(b.cid());
        if (c == 0) {
            c = Values.compareLists(a.values(), b.values());
        }
        return c >= 0 ? a : b;
    }

    static ValueSet join(ValueSet a, ValueSet b) {
        if (a.equals(b)) {
            return a;
        }
        TreeMap<ByteString, ValueMarks> values = new TreeMap<>(Values.ORDER);
        values.putAll(a.values());
        for (Map.Entry<ByteString, ValueMarks> e : b.values().entrySet()) {
            values.merge(e.getKey(), e.getValue(), Merge::join);
        }
        return new ValueSet(values);
    }

    static ValueMarks join(ValueMarks a, ValueMarks b) {
        Cid removed = a.removed() == null ? b.removed()
                : b.removed() == null ? a.removed()
                : Cid.max(a.removed(), b.removed());
        return new ValueMarks(Cid.max(a.added(), b.added()), removed);
    }
}
