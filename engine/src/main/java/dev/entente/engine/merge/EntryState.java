package dev.entente.engine.merge;

import dev.entente.engine.clock.Cid;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The replicated state of one entry id: its live versions, or a tombstone. A change to an entry is
 * itself an {@code EntryState} (a partial one), joined into the stored state by {@link Merge}.
 */
public sealed interface EntryState permits EntryState.Live, EntryState.Tombstone {

    /** The state with value-removal markers older than {@code hlc} forgotten. */
    EntryState pruneRemovedBefore(long hlc);

    /** Live versions keyed by created CID (one, unless concurrent creates made entry conflicts). */
    record Live(SortedMap<Cid, Version> versions) implements EntryState {
        public Live {
            if (versions.isEmpty()) {
                throw new IllegalArgumentException("a live entry state has at least one version");
            }
            for (Map.Entry<Cid, Version> e : versions.entrySet()) {
                if (!e.getKey().equals(e.getValue().created())) {
                    throw new IllegalArgumentException("version keyed " + e.getKey() + " was created at " + e.getValue().created());
                }
            }
            versions = SortedArrayMap.copyOf(versions, null);
        }

        public static Live of(Version version) {
            return new Live(SortedArrayMap.of(null, version.created(), version));
        }

        /**
         * Forgets old removal marks of each version. Not done while several versions are live: with
         * {@code mergeConcurrentCreates} their sets are joined, and one version's removal mark may
         * be what hides another version's older add of the same value.
         */
        @Override
        public Live pruneRemovedBefore(long hlc) {
            int live = 0;
            for (Version v : versions.values()) {
                if (!v.isDiscarded() && ++live > 1) {
                    return this;
                }
            }
            TreeMap<Cid, Version> pruned = null;
            for (Version v : versions.values()) {
                Version p = v.pruneRemovedBefore(hlc);
                if (p != v) {
                    if (pruned == null) {
                        pruned = new TreeMap<>(versions);
                    }
                    pruned.put(p.created(), p);
                }
            }
            return pruned == null ? this : new Live(pruned);
        }

        // Written out, as are those of the other merge records, for the reason given in Cid: a
        // replica's first catch-up compares a state for every entry it applies.
        @Override
        public boolean equals(Object o) {
            return o instanceof Live l && versions.equals(l.versions);
        }

        @Override
        public int hashCode() {
            return versions.hashCode();
        }
    }

    /** A deleted entry: it wins over every live version, and is reaped after the window. */
    record Tombstone(Cid deleted) implements EntryState {
        public Tombstone {
            Objects.requireNonNull(deleted, "deleted");
        }

        @Override
        public Tombstone pruneRemovedBefore(long hlc) {
            return this;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tombstone t && deleted.equals(t.deleted);
        }

        @Override
        public int hashCode() {
            return deleted.hashCode();
        }
    }
}
