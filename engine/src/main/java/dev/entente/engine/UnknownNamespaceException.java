package dev.entente.engine;

import dev.entente.engine.error.EntenteException;

/** A write or read named a namespace this node does not know. */
public final class UnknownNamespaceException extends EntenteException {
    private final String namespace;

    public UnknownNamespaceException(String namespace) {
        super("unknown namespace '" + namespace + "': define it first (Transaction.defineNamespace), "
                + "or wait until its definition has replicated to this node");
        this.namespace = namespace;
    }

    public String namespace() {
        return namespace;
    }
}
