package dev.entente.engine;

import dev.entente.engine.error.EntenteException;

/** A value, attribute or transaction is larger than the configured limit. */
public final class LimitExceededException extends EntenteException {
    public LimitExceededException(String what, long size, long limit, String setting) {
        super(what + " is " + size + " bytes, over the limit of " + limit + " bytes (setting " + setting
                + "): store large data elsewhere and keep a reference, split the transaction, or raise the limit on every node");
    }
}
