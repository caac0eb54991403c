package dev.entente.engine;

import dev.entente.engine.error.EntenteException;
import java.util.UUID;

/** A local write produced an entry that the namespace's registered validator rejects. */
public final class ValidationException extends EntenteException {
    public ValidationException(String namespace, UUID id, String problem) {
        super("entry " + id + " in namespace '" + namespace + "' fails validation: " + problem);
    }
}
