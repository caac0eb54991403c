package dev.entente.engine;

import dev.entente.engine.clock.OriginId;
import dev.entente.protocol.Wire;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The replication update vector: for every origin, {@code max}, the newest change of that origin
 * this node has applied, and {@code trimmed}, the newest change of that origin whose record it no
 * longer holds (0 while none was trimmed). The changelog holds exactly that origin's records after
 * {@code trimmed} up to {@code max}. An origin stays listed after all its records are trimmed, so a
 * consumer that missed them is always detected.
 */
public record Ruv(SortedMap<OriginId, Range> origins) {

    public static final Ruv EMPTY = new Ruv(new TreeMap<>());

    public Ruv {
        origins = Collections.unmodifiableSortedMap(new TreeMap<>(origins));
    }

    /** HLC values of one origin's range. */
    public record Range(long max, long trimmed) {
        public Range {
            if (trimmed > max) {
                throw new IllegalArgumentException("trimmed " + trimmed + " is above max " + max);
            }
        }
    }

    public long max(OriginId origin) {
        Range r = origins.get(origin);
        return r == null ? 0 : r.max();
    }

    public long trimmed(OriginId origin) {
        Range r = origins.get(origin);
        return r == null ? 0 : r.trimmed();
    }

    public Ruv with(OriginId origin, Range range) {
        TreeMap<OriginId, Range> m = new TreeMap<>(origins);
        m.put(origin, range);
        return new Ruv(m);
    }

    /** The highest HLC of any origin: everything this node has applied is at or below it. */
    public long maxHlc() {
        long m = 0;
        for (Range r : origins.values()) {
            m = Math.max(m, r.max());
        }
        return m;
    }

    /** Whether this RUV has applied everything {@code other} has. */
    public boolean covers(Ruv other) {
        for (Map.Entry<OriginId, Range> e : other.origins.entrySet()) {
            if (max(e.getKey()) < e.getValue().max()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        origins.forEach((o, r) -> {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(o.shortForm()).append(": max ").append(r.max()).append(", trimmed ").append(r.trimmed());
        });
        return sb.append('}').toString();
    }

    /** This RUV as the wire carries it (in a pull, at the end of a stream, in a snapshot's header). */
    public Wire.Ruv toWire() {
        Wire.Ruv.Builder b = Wire.Ruv.newBuilder();
        origins.forEach((o, r) -> b.addEntries(Wire.RuvEntry.newBuilder().setOrigin(WireCodec.originBytes(o))
                .setMax(r.max()).setTrimmed(r.trimmed())));
        return b.build();
    }

    /** A RUV from the wire; a peer's or a file's, so every entry is checked. */
    public static Ruv fromWire(Wire.Ruv m) {
        TreeMap<OriginId, Range> origins = new TreeMap<>();
        for (Wire.RuvEntry e : m.getEntriesList()) {
            try {
                origins.put(WireCodec.origin(e.getOrigin()), new Range(e.getMax(), e.getTrimmed()));
            } catch (IllegalArgumentException ex) {
                throw new MalformedChangeException("a RUV entry is malformed: " + ex.getMessage(), ex);
            }
        }
        return new Ruv(origins);
    }
}
