package dev.entente.engine;

import dev.entente.engine.error.EntenteException;

/** A write is malformed: a bad name, an empty transaction, an operation that makes no sense. */
public final class InvalidWriteException extends EntenteException {
    public InvalidWriteException(String message) {
        super(message);
    }
}
