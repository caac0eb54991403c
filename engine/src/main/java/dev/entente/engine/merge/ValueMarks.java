package dev.entente.engine.merge;

import dev.entente.engine.clock.Cid;
import java.util.Objects;

/**
 * When one value of a set attribute was last added and last removed. The value is present when it
 * was added after it was last removed.
 */
public record ValueMarks(Cid added, Cid removed) {

    public ValueMarks {
        Objects.requireNonNull(added, "added");
    }

    public boolean present() {
        return removed == null || added.compareTo(removed) > 0;
    }

    // Written out rather than generated: see Cid.
    @Override
    public boolean equals(Object o) {
        return o instanceof ValueMarks x && added.equals(x.added) && Objects.equals(removed, x.removed);
    }

    @Override
    public int hashCode() {
        return added.hashCode() * 31 + Objects.hashCode(removed);
    }
}
