package dev.entente.engine.clock;

import dev.entente.engine.error.EntenteException;

/**
 * A remote change is stamped further in the future than the allowed clock skew. Nothing of its
 * batch was applied.
 */
public final class ClockSkewException extends EntenteException {
    private final Cid cid;
    private final long skewMillis;

    public ClockSkewException(Cid cid, String supplier, long skewMillis, long maxSkewMillis) {
        super("change " + cid + " of origin " + cid.origin() + " from supplier '" + supplier + "' is "
                + skewMillis + " ms ahead of this node's clock (maxClockSkew is " + maxSkewMillis
                + " ms); nothing of its batch was applied. Fix the clock (NTP) on the origin node or on this one");
        this.cid = cid;
        this.skewMillis = skewMillis;
    }

    public ClockSkewException(String what, String supplier, long skewMillis, long maxSkewMillis) {
        super(what + " from supplier '" + supplier + "' is " + skewMillis + " ms ahead of this node's clock (maxClockSkew is "
                + maxSkewMillis + " ms); it was refused. Fix the clock (NTP) on the supplier or on this node");
        this.cid = null;
        this.skewMillis = skewMillis;
    }

    /** The refused change, or null when a snapshot was refused. */
    public Cid cid() {
        return cid;
    }

    public long skewMillis() {
        return skewMillis;
    }
}
