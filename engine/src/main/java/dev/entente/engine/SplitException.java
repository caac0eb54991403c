package dev.entente.engine;

import dev.entente.engine.error.EntenteException;

/**
 * A supplier and a consumer each trimmed changes the other lacks, and the evidence does not say
 * which of them was cut off: replication between them stops until an operator refreshes one
 * from the other. Neither is marked for refresh.
 */
public final class SplitException extends EntenteException {
    public SplitException(String message) {
        super(message);
    }
}
