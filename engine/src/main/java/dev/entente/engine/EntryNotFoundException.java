package dev.entente.engine;

import dev.entente.engine.error.EntenteException;
import java.util.UUID;

/** A modify, delete or discard named an entry that is not live here. */
public final class EntryNotFoundException extends EntenteException {
    public EntryNotFoundException(String namespace, UUID id, String detail) {
        super("entry " + id + " in namespace '" + namespace + "' " + detail);
    }
}
