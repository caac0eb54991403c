package dev.entente.engine.merge;

import dev.entente.engine.clock.Cid;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One created version of an entry: the change that created it and its attributes. An entry id
 * normally has one version; concurrent creates of the same id on two nodes give it two, and all
 * but the lowest are entry conflicts. A discarded version (a conflict an operator resolved) keeps
 * only its created and discarded CIDs, so that the discard wins wherever the version travels.
 */
public record Version(Cid created, SortedMap<String, AttributeState> attributes, Cid discarded) {

    public Version {
        Objects.requireNonNull(created, "created");
        if (discarded != null || attributes.isEmpty()) {
            attributes = SortedArrayMap.empty(null);
        } else {
            attributes = SortedArrayMap.copyOf(attributes, null);
        }
    }

    public static Version live(Cid created, Map<String, AttributeState> attributes) {
        return new Version(created, new TreeMap<>(attributes), null);
    }

    public static Version discarded(Cid created, Cid discarded) {
        return new Version(created, SortedArrayMap.empty(null), discarded);
    }

    public boolean isDiscarded() {
        return discarded != null;
    }

    public Version pruneRemovedBefore(long hlc) {
        if (discarded != null) {
            return this;
        }
        TreeMap<String, AttributeState> pruned = null;
        for (Map.Entry<String, AttributeState> e : attributes.entrySet()) {
            AttributeState p = e.getValue().pruneRemovedBefore(hlc);
            if (p != e.getValue()) {
                if (pruned == null) {
                    pruned = new TreeMap<>(attributes);
                }
                pruned.put(e.getKey(), p);
            }
        }
        return pruned == null ? this : new Version(created, pruned, null);
    }

    // Written out rather than generated: see Cid.
    @Override
    public boolean equals(Object o) {
        return o instanceof Version x && created.equals(x.created) && attributes.equals(x.attributes) && Objects.equals(discarded, x.discarded);
    }

    @Override
    public int hashCode() {
        return (created.hashCode() * 31 + attributes.hashCode()) * 31 + Objects.hashCode(discarded);
    }
}
