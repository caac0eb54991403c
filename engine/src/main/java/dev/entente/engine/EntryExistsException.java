package dev.entente.engine;

import dev.entente.engine.error.EntenteException;
import java.util.UUID;

/** A create named an entry id that is already live or deleted here. */
public final class EntryExistsException extends EntenteException {
    public EntryExistsException(String namespace, UUID id, boolean deleted) {
        super(deleted
                ? "entry " + id + " in namespace '" + namespace + "' was deleted; a deleted id is never reused: create the entry under a new id"
                : "entry " + id + " already exists in namespace '" + namespace + "': modify it instead, or create under a new id");
    }
}
