package dev.entente.node;

import dev.entente.engine.session.SupplierSession;
import dev.entente.protocol.SessionMessages;

/**
 * What a node's sessions report goes to its refusal log (status, and the log at a bounded rate)
 * and its session log (the audit log): a refusal the refusal log did not show makes no audit
 * line either, so a peer refused again and again cannot grow either log.
 */
class NodeSessionEvents implements SupplierSession.Events {
    private final RefusalLog refusals;
    private final SessionLog sessions;
    /** The SHA-256 of the peer's pinned key, hex. */
    private final String key;
    /** Whether the last refusal was logged; the record of a refusal follows its report. */
    private boolean lastRefusalLogged = true;

    NodeSessionEvents(RefusalLog refusals, SessionLog sessions, String key) {
        this.refusals = refusals;
        this.sessions = sessions;
        this.key = key;
    }

    @Override
    public void refused(String peer, SessionMessages.Error.Code code, String reason) {
        lastRefusalLogged = refusals.refused(peer, key, code, reason);
    }

    @Override
    public void served(String consumer) {
        sessions.served(key);
    }

    @Override
    public void peerOrigin(String peer, dev.entente.engine.clock.OriginId origin) {
        sessions.peerOrigin(peer, origin);
    }

    @Override
    public void record(String who, String action, String target, String result) {
        if (result.startsWith("refused") && !lastRefusalLogged) {
            return;
        }
        sessions.record(who, action, target, result);
    }
}
