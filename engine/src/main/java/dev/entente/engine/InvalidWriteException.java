package dev.entente.engine;

/** A write is malformed: a bad name, an empty transaction, an operation that makes no sense. */
public final class InvalidWriteException extends EntenteException {
    public InvalidWriteException(String message) {
        super(message);
    }
}
