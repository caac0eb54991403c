package dev.entente.engine;

/** RocksDB failed. Committed data is safe: a failed commit writes nothing. */
public final class StoreException extends EntenteException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
