package dev.entente.engine;

import dev.entente.engine.error.EntenteException;

/**
 * This node (or the consumer asking this node) is behind a trimmed changelog: records it needs
 * are gone, and a tombstone among them may have been reaped, so incremental replication could
 * bring a deleted entry back. The lagging node must be refreshed from a healthy member.
 */
public final class RefreshRequiredException extends EntenteException {
    public RefreshRequiredException(String message) {
        super(message);
    }
}
