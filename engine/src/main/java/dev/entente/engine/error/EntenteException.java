package dev.entente.engine.error;

/**
 * Base of every error the engine reports. Messages say what went wrong, with which namespace,
 * entry, origin or setting, and what to do about it.
 */
public class EntenteException extends RuntimeException {
    public EntenteException(String message) {
        super(message);
    }

    public EntenteException(String message, Throwable cause) {
        super(message, cause);
    }
}
