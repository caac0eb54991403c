package dev.entente.testkit.sim;

import dev.entente.engine.session.ConsumerAgreement;
import dev.entente.engine.session.SupplierSession;

/**
 * One simulated connection from a consumer's agreement to a supplier: the supplier's session on
 * one end, the agreement's attempt on the other. Frames keep their order on a connection unless
 * the scenario reorders them; once cut, nothing more goes through.
 */
final class SimConnection {
    final long id;
    final int consumer;
    final int consumerIncarnation;
    final int supplier;
    final int supplierIncarnation;
    final ConsumerAgreement agreement;
    final long attempt;
    SupplierSession session;
    boolean cut;
    /** Each side ([0] the consumer's, [1] the supplier's) has closed its end. */
    final boolean[] closing = new boolean[2];
    /** Each side ([0] the supplier, [1] the consumer) has been told the connection is closed. */
    final boolean[] closed = new boolean[2];
    /** The latest arrival scheduled in each direction ([0] to the supplier, [1] to the consumer). */
    private final long[] lastArrival = new long[2];

    SimConnection(long id, int consumer, int consumerIncarnation, int supplier, int supplierIncarnation, ConsumerAgreement agreement,
                  long attempt) {
        this.id = id;
        this.consumer = consumer;
        this.consumerIncarnation = consumerIncarnation;
        this.supplier = supplier;
        this.supplierIncarnation = supplierIncarnation;
        this.agreement = agreement;
        this.attempt = attempt;
    }

    /**
     * When a frame due at {@code at} arrives, keeping the direction's order: as over TCP, a frame
     * never overtakes one sent before it on the same connection (frames of different connections
     * do overtake each other).
     */
    long arrival(boolean toSupplier, long at) {
        int d = toSupplier ? 0 : 1;
        long t = Math.max(at, lastArrival[d]);
        lastArrival[d] = t;
        return t;
    }
}
