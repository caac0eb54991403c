package dev.entente.engine;

import com.google.protobuf.ByteString;
import dev.entente.engine.merge.ResolvedEntry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The design's derived uniqueness conflict: live entries that share a value of an attribute their
 * namespace declares unique are all marked conflicted (none of them can be trusted to own the
 * name), and an entry stops being so when it no longer holds the value or is the last holder
 * left. Kept in the commit's batch as the unique index (each value's holders, sorted) and each
 * holder's conflict flags, so every node derives the same result from the same merged state.
 * Local writes that would create such a clash are refused before they get here (LocalWriter);
 * only replication creates one.
 */
final class UniquenessConflicts {
    private final CommitBatch batch;
    /** Entries whose flags this changed besides the one written: the change feed reports them too. */
    private final Collection<CommitBatch.EntryKey> alsoChanged;

    UniquenessConflicts(CommitBatch batch, Collection<CommitBatch.EntryKey> alsoChanged) {
        this.batch = batch;
        this.alsoChanged = alsoChanged;
    }

    /** Entry {@code id}'s resolved state went from {@code before} to {@code after}: its unique values leave and join their groups. */
    void update(String namespace, UUID id, Schema schema, Optional<ResolvedEntry> before, Optional<ResolvedEntry> after) {
        for (String attribute : schema.uniqueAttributes()) {
            List<ByteString> oldValues = values(before, attribute);
            List<ByteString> newValues = values(after, attribute);
            for (ByteString v : oldValues) {
                if (!newValues.contains(v)) {
                    leave(namespace, attribute, v, id);
                }
            }
            for (ByteString v : newValues) {
                if (!oldValues.contains(v)) {
                    join(namespace, attribute, v, id);
                }
            }
        }
    }

    private static List<ByteString> values(Optional<ResolvedEntry> r, String attribute) {
        return r.map(e -> e.attributes().getOrDefault(attribute, List.of())).orElse(List.of());
    }

    private void leave(String namespace, String attribute, ByteString value, UUID id) {
        List<UUID> holders = batch.uniqueHolders(namespace, attribute, value);
        List<UUID> remaining = new ArrayList<>(holders);
        remaining.remove(id);
        batch.putUniqueHolders(namespace, attribute, value, remaining);
        if (holders.size() >= 2) {
            batch.putFlags(namespace, id, batch.flags(namespace, id).withClash(attribute, value, false));
            if (remaining.size() == 1) {
                UUID last = remaining.get(0);
                batch.putFlags(namespace, last, batch.flags(namespace, last).withClash(attribute, value, false));
                alsoChanged.add(new CommitBatch.EntryKey(namespace, last));
            }
        }
    }

    private void join(String namespace, String attribute, ByteString value, UUID id) {
        List<UUID> holders = new ArrayList<>(batch.uniqueHolders(namespace, attribute, value));
        if (!holders.contains(id)) {
            holders.add(id);
            holders.sort(null);
        }
        batch.putUniqueHolders(namespace, attribute, value, holders);
        if (holders.size() >= 2) {
            for (UUID h : holders) {
                ConflictFlags f = batch.flags(namespace, h);
                ConflictFlags g = f.withClash(attribute, value, true);
                if (!g.equals(f)) {
                    batch.putFlags(namespace, h, g);
                    if (!h.equals(id)) {
                        alsoChanged.add(new CommitBatch.EntryKey(namespace, h));
                    }
                }
            }
        }
    }
}
