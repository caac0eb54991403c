package dev.entente.engine;

import com.google.protobuf.ByteString;
import java.util.Collections;
import java.util.Comparator;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The derived conflict flags of one entry. They are recomputed from the merged state and schema, so
 * every node that holds the same state holds the same flags.
 */
record ConflictFlags(boolean entryConflict, SortedSet<ConflictedEntry.UniqueClash> unique, String invalid) {

    static final Comparator<ConflictedEntry.UniqueClash> ORDER = Comparator
            .comparing(ConflictedEntry.UniqueClash::attribute)
            .thenComparing(ConflictedEntry.UniqueClash::value);

    static final ConflictFlags NONE = new ConflictFlags(false, new TreeSet<>(ORDER), null);

    ConflictFlags {
        TreeSet<ConflictedEntry.UniqueClash> copy = new TreeSet<>(ORDER);
        copy.addAll(unique);
        unique = Collections.unmodifiableSortedSet(copy);
    }

    boolean any() {
        return entryConflict || !unique.isEmpty() || invalid != null;
    }

    ConflictFlags withEntryConflict(boolean conflict) {
        return new ConflictFlags(conflict, unique, invalid);
    }

    ConflictFlags withInvalid(String problem) {
        return new ConflictFlags(entryConflict, unique, problem);
    }

    ConflictFlags withClash(String attribute, ByteString value, boolean clash) {
        TreeSet<ConflictedEntry.UniqueClash> u = new TreeSet<>(ORDER);
        u.addAll(unique);
        ConflictedEntry.UniqueClash c = new ConflictedEntry.UniqueClash(attribute, Value.wrap(value));
        if (clash) {
            u.add(c);
        } else {
            u.remove(c);
        }
        return new ConflictFlags(entryConflict, u, invalid);
    }

    ConflictFlags withoutClashesOn(String attribute) {
        TreeSet<ConflictedEntry.UniqueClash> u = new TreeSet<>(ORDER);
        for (ConflictedEntry.UniqueClash c : unique) {
            if (!c.attribute().equals(attribute)) {
                u.add(c);
            }
        }
        return new ConflictFlags(entryConflict, u, invalid);
    }
}
