package dev.entente.engine;

import java.util.List;
import java.util.UUID;

/**
 * An entry that the merge could not keep as a normal live entry, as every node sees it.
 *
 * @param entry the version that owns the id, or null when none does (all versions discarded)
 * @param conflictVersions the versions kept whole in the conflict area (concurrent creates of the
 *     same id); resolve with {@link Transaction#discardConflict}
 * @param uniqueClashes unique-attribute values this entry shares with other live entries; rename
 *     or delete one of them to resolve
 * @param validationProblem what the namespace's validator rejects, or null
 */
public record ConflictedEntry(String namespace, UUID id, Entry entry, List<Entry> conflictVersions,
                              List<UniqueClash> uniqueClashes, String validationProblem) {

    public ConflictedEntry {
        conflictVersions = List.copyOf(conflictVersions);
        uniqueClashes = List.copyOf(uniqueClashes);
    }

    public record UniqueClash(String attribute, Value value) {
        @Override
        public String toString() {
            return attribute + "=" + value;
        }
    }
}
