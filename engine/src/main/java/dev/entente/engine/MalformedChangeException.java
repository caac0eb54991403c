package dev.entente.engine;

import dev.entente.engine.error.EntenteException;

/** A change record or snapshot chunk could not be decoded or breaks the format's rules. */
public final class MalformedChangeException extends EntenteException {
    public MalformedChangeException(String message) {
        super(message);
    }

    public MalformedChangeException(String message, Throwable cause) {
        super(message, cause);
    }
}
