package dev.entente.engine;

import java.time.Instant;
import java.util.Objects;

/**
 * A change id: the hybrid-logical-clock value of a change and the origin that made it. Totally
 * ordered by {@code hlc}, then {@code origin}; the HLC makes causal order a sub-order of this one.
 */
public record Cid(long hlc, OriginId origin) implements Comparable<Cid> {

    public Cid {
        Objects.requireNonNull(origin, "origin");
        if (hlc <= 0) {
            throw new IllegalArgumentException("a CID's hlc is positive, got " + hlc);
        }
    }

    /** Milliseconds since the epoch: the high 48 bits of the HLC. */
    public long physicalMillis() {
        return HybridClock.physicalMillis(hlc);
    }

    /** The logical counter: the low 16 bits of the HLC. */
    public int counter() {
        return (int) (hlc & 0xFFFF);
    }

    public static Cid max(Cid a, Cid b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    public static Cid min(Cid a, Cid b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public int compareTo(Cid o) {
        int c = Long.compare(hlc, o.hlc);
        return c != 0 ? c : origin.compareTo(o.origin);
    }

    @Override
    public String toString() {
        return Instant.ofEpochMilli(physicalMillis()) + "+" + counter() + "@" + origin.shortForm();
    }
}
