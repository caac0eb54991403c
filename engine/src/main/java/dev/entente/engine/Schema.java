package dev.entente.engine;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A namespace's schema.
 *
 * @param uniqueAttributes attributes whose values no two live entries may share
 * @param setAttributes attributes resolved value by value (group members, say) instead of as a
 *     last-writer-wins register
 * @param mergeConcurrentCreates whether concurrent creates of one entry id merge attribute by
 *     attribute (key-value style use) instead of making an entry conflict
 */
public record Schema(SortedSet<String> uniqueAttributes, SortedSet<String> setAttributes, boolean mergeConcurrentCreates) {

    public static final Schema EMPTY = new Schema(List.of(), List.of(), false);

    public Schema(Collection<String> uniqueAttributes, Collection<String> setAttributes, boolean mergeConcurrentCreates) {
        this(sorted(uniqueAttributes), sorted(setAttributes), mergeConcurrentCreates);
    }

    public Schema {
        uniqueAttributes = Collections.unmodifiableSortedSet(new TreeSet<>(uniqueAttributes));
        setAttributes = Collections.unmodifiableSortedSet(new TreeSet<>(setAttributes));
        uniqueAttributes.forEach(a -> Names.checkAttribute(a));
        setAttributes.forEach(a -> Names.checkAttribute(a));
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean isUnique(String attribute) {
        return uniqueAttributes.contains(attribute);
    }

    public boolean isSet(String attribute) {
        return setAttributes.contains(attribute);
    }

    private static SortedSet<String> sorted(Collection<String> names) {
        return new TreeSet<>(names);
    }

    public static final class Builder {
        private final TreeSet<String> unique = new TreeSet<>();
        private final TreeSet<String> sets = new TreeSet<>();
        private boolean mergeConcurrentCreates;

        public Builder unique(String... attributes) {
            unique.addAll(List.of(attributes));
            return this;
        }

        public Builder set(String... attributes) {
            sets.addAll(List.of(attributes));
            return this;
        }

        public Builder mergeConcurrentCreates(boolean merge) {
            this.mergeConcurrentCreates = merge;
            return this;
        }

        public Schema build() {
            return new Schema(unique, sets, mergeConcurrentCreates);
        }
    }
}
