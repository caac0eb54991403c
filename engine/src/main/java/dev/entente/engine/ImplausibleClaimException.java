package dev.entente.engine;

import dev.entente.engine.error.EntenteException;

/**
 * A peer claimed something no honest node could hold, such as changes of this node's own origin
 * stamped later than this node's clock allows. The peer is refused; nothing here changes.
 */
public final class ImplausibleClaimException extends EntenteException {
    public ImplausibleClaimException(String message) {
        super(message);
    }
}
