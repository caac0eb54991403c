package dev.entente.engine.clock;

import java.nio.ByteBuffer;
import java.util.random.RandomGenerator;

/**
 * The random 128-bit id a node stamps on the changes it makes. Ordered as an unsigned 128-bit
 * number, which is also the byte order of its big-endian encoding, so the order of CIDs and the
 * order of changelog keys in RocksDB agree.
 */
public record OriginId(long hi, long lo) implements Comparable<OriginId> {

    public static final int BYTES = 16;

    public static OriginId random(RandomGenerator random) {
        return new OriginId(random.nextLong(), random.nextLong());
    }

    public static OriginId fromBytes(byte[] bytes) {
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("an origin id has 16 bytes, got " + bytes.length);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        return new OriginId(b.getLong(), b.getLong());
    }

    /** Parses the 32-hex-digit form printed by {@link #toString()}. */
    public static OriginId parse(String hex) {
        if (hex.length() != 32) {
            throw new IllegalArgumentException("an origin id is 32 hex digits, got '" + hex + "'");
        }
        return new OriginId(Long.parseUnsignedLong(hex.substring(0, 16), 16),
                Long.parseUnsignedLong(hex.substring(16), 16));
    }

    public byte[] toBytes() {
        return ByteBuffer.allocate(BYTES).putLong(hi).putLong(lo).array();
    }

    @Override
    public int compareTo(OriginId o) {
        int c = Long.compareUnsigned(hi, o.hi);
        return c != 0 ? c : Long.compareUnsigned(lo, o.lo);
    }

    @Override
    public String toString() {
        return String.format("%016x%016x", hi, lo);
    }

    /** The first 8 hex digits, enough to tell origins apart in logs. */
    public String shortForm() {
        return toString().substring(0, 8);
    }

    // Written out for the same reason as Cid's.
    @Override
    public boolean equals(Object o) {
        return o instanceof OriginId c && hi == c.hi && lo == c.lo;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(hi) * 31 + Long.hashCode(lo);
    }
}
