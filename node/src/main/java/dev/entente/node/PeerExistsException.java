package dev.entente.node;

/** A consumer or an agreement of that name (or a consumer with that key) exists already. */
public final class PeerExistsException extends IllegalArgumentException {
    PeerExistsException(String message) {
        super(message);
    }
}
