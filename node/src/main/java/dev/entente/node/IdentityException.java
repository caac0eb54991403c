package dev.entente.node;

/** A node identity (key or certificate) is missing, unreadable or inconsistent. */
public final class IdentityException extends RuntimeException {
    public IdentityException(String message) {
        super(message);
    }

    public IdentityException(String message, Throwable cause) {
        super(message, cause);
    }
}
