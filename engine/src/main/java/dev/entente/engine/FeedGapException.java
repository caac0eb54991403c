package dev.entente.engine;

import dev.entente.engine.error.EntenteException;

/** A change-feed cursor points before the oldest retained feed event. */
public final class FeedGapException extends EntenteException {
    public FeedGapException(long cursor, long oldestRetained) {
        super("change-feed cursor " + cursor + " is older than the oldest retained event " + oldestRetained
                + " (events older than the window are trimmed): re-read the namespaces in full, then follow from lastSequence()");
    }
}
