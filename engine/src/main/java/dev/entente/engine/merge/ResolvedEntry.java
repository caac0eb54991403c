package dev.entente.engine.merge;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.Cid;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;

/**
 * What an entry state shows: the version that owns the id and its present values, plus the
 * versions kept in the conflict area. It is a pure function of the state and the namespace's
 * {@code mergeConcurrentCreates} flag, so every node that holds the same state resolves it alike.
 *
 * <ul>
 *   <li>Normally the non-discarded version with the lowest created CID owns the id; the other
 *       non-discarded versions are entry conflicts, kept whole.</li>
 *   <li>With {@code mergeConcurrentCreates}, all non-discarded versions are joined attribute by
 *       attribute into one entry, created at the lowest CID, and there are no entry conflicts.</li>
 * </ul>
 *
 * @param created the created CID of the owning version
 * @param attributes present values by attribute name; absent attributes are left out
 * @param conflicts the other non-discarded versions, by created CID
 */
public record ResolvedEntry(Cid created, SortedMap<String, List<ByteString>> attributes, List<Version> conflicts) {

    public ResolvedEntry {
        attributes = SortedArrayMap.copyOf(attributes, null);
        conflicts = List.copyOf(conflicts);
    }

    /** Empty for a tombstone, or for a state whose versions were all discarded. */
    public static Optional<ResolvedEntry> resolve(EntryState state, boolean mergeConcurrentCreates) {
        if (!(state instanceof EntryState.Live live)) {
            return Optional.empty();
        }
        Version owner = null;
        List<Version> conflicts = new ArrayList<>();
        for (Version v : live.versions().values()) {
            if (v.isDiscarded()) {
                continue;
            }
            if (owner == null) {
                owner = v;
            } else if (mergeConcurrentCreates) {
                owner = new Version(owner.created(), Merge.join(withCreated(v, owner.created()), owner).attributes(), null);
            } else {
                conflicts.add(v);
            }
        }
        if (owner == null) {
            return Optional.empty();
        }
        return Optional.of(new ResolvedEntry(owner.created(), presentValues(owner), conflicts));
    }

    /** The present values of a version's attributes, absent attributes left out. */
    public static SortedMap<String, List<ByteString>> presentValues(Version v) {
        SortedArrayMap.Builder<String, List<ByteString>> present = SortedArrayMap.builder(null, v.attributes().size());
        for (Map.Entry<String, AttributeState> e : v.attributes().entrySet()) {
            List<ByteString> values = e.getValue().presentValues();
            if (!values.isEmpty()) {
                present.add(e.getKey(), values);
            }
        }
        return present.build();
    }

    private static Version withCreated(Version v, Cid created) {
        return new Version(created, v.attributes(), null);
    }

    public boolean hasEntryConflict() {
        return !conflicts.isEmpty();
    }
}
