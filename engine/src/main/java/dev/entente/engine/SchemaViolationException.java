package dev.entente.engine;

import dev.entente.engine.error.EntenteException;

/** A schema change that the data already in the namespace would violate. */
public final class SchemaViolationException extends EntenteException {
    public SchemaViolationException(String namespace, String detail) {
        super("schema change of namespace '" + namespace + "' refused: " + detail);
    }
}
