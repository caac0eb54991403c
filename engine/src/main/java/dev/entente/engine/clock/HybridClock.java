package dev.entente.engine.clock;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * The hybrid logical clock: milliseconds since the epoch in the high 48 bits, a counter in the
 * low 16. A local change takes {@code max(physical << 16, last + 1)}, so the clock never goes
 * backwards even when the wall clock does, and a counter overflow simply borrows the next
 * millisecond. Receiving a change raises {@code last} to it, so the next local change orders after
 * everything this node has seen.
 */
public final class HybridClock {

    private final LongSupplier physicalMillis;
    private final long maxSkewMillis;
    private long last;

    /**
     * @param physicalMillis the wall clock (injected so a simulation can skew and jump it)
     * @param maxSkew how far ahead of the local wall clock a remote change may be
     * @param last the last HLC value this node used or saw, as persisted
     */
    public HybridClock(LongSupplier physicalMillis, Duration maxSkew, long last) {
        this.physicalMillis = physicalMillis;
        this.maxSkewMillis = maxSkew.toMillis();
        this.last = last;
    }

    public static long physicalMillis(long hlc) {
        return hlc >>> 16;
    }

    /** An HLC as people read it in a CID: its time and counter ("nothing" for 0). */
    public static String describe(long hlc) {
        return hlc == 0 ? "nothing" : java.time.Instant.ofEpochMilli(physicalMillis(hlc)) + "+" + (hlc & 0xFFFF);
    }

    public static long hlcOf(long millis) {
        return millis << 16;
    }

    /** The HLC value for a new local change. */
    public synchronized long next() {
        last = Math.max(hlcOf(physicalMillis.getAsLong()), last + 1);
        return last;
    }

    /** Records that a change with this HLC was applied here. */
    public synchronized void observe(long remoteHlc) {
        last = Math.max(last, remoteHlc);
    }

    public synchronized long last() {
        return last;
    }

    public long nowMillis() {
        return physicalMillis.getAsLong();
    }

    /**
     * Refuses a remote CID whose physical part is further ahead of the local wall clock than the
     * configured maximum skew: accepting it would drag this node's clock (and every later change)
     * into the future.
     */
    public void checkSkew(Cid remote, String supplier) {
        long skew = remote.physicalMillis() - physicalMillis.getAsLong();
        if (skew > maxSkewMillis) {
            throw new ClockSkewException(remote, supplier, skew, maxSkewMillis);
        }
    }

    /** The same check for an HLC that is not a change's, such as a snapshot's newest. */
    public void checkSkew(long hlc, String what, String supplier) {
        long skew = physicalMillis(hlc) - physicalMillis.getAsLong();
        if (skew > maxSkewMillis) {
            throw new ClockSkewException(what, supplier, skew, maxSkewMillis);
        }
    }
}
