package dev.entente.engine;

import dev.entente.engine.clock.OriginId;
import dev.entente.engine.error.EntenteException;

/**
 * A batch would break the changelog's contiguity for an origin: a record arrived whose
 * predecessor this node has not applied. Nothing of the batch was applied.
 */
public final class ChangeGapException extends EntenteException {
    public ChangeGapException(String supplier, OriginId origin, long haveMax, long recordPrev, long recordHlc) {
        super("supplier '" + supplier + "' sent change " + recordHlc + " of origin " + origin
                + " whose predecessor is " + recordPrev + ", but this node has that origin only up to " + haveMax
                + "; nothing of the batch was applied. Batches were lost or reordered: pull again");
    }
}
