package dev.entente.engine;

import dev.entente.engine.error.EntenteException;

/**
 * The consumer has already trimmed changes that this supplier never received: the supplier is
 * the stale side. It marks itself as requiring refresh and supplies nothing.
 */
public final class SupplierLaggingException extends EntenteException {
    public SupplierLaggingException(String message) {
        super(message);
    }
}
