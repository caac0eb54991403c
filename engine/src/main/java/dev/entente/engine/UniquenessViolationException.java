package dev.entente.engine;

import dev.entente.engine.error.EntenteException;
import java.util.UUID;

/** A local write would give two live entries the same value of a unique attribute. */
public final class UniquenessViolationException extends EntenteException {
    private final String namespace;
    private final String attribute;
    private final UUID holder;

    public UniquenessViolationException(String namespace, String attribute, String value, UUID holder) {
        super("attribute '" + attribute + "' is unique in namespace '" + namespace + "' and value '" + value
                + "' is already held by entry " + holder + ": choose another value, or rename or delete that entry first");
        this.namespace = namespace;
        this.attribute = attribute;
        this.holder = holder;
    }

    public String namespace() {
        return namespace;
    }

    public String attribute() {
        return attribute;
    }

    /** The live entry that already holds the value. */
    public UUID holder() {
        return holder;
    }
}
