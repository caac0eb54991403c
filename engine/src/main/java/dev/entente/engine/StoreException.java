package dev.entente.engine;

import dev.entente.engine.error.EntenteException;

/** RocksDB failed. Committed data is safe: a failed commit writes nothing. */
public final class StoreException extends EntenteException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
