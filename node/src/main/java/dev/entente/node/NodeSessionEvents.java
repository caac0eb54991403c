package dev.entente.node;

import dev.entente.engine.session.SupplierSession;
import dev.entente.protocol.SessionMessages;

/** What a node's sessions report goes to its refusal log (status) and its session log (the audit log). */
class NodeSessionEvents implements SupplierSession.Events {
    private final RefusalLog refusals;
    private final SessionLog sessions;

    NodeSessionEvents(RefusalLog refusals, SessionLog sessions) {
        this.refusals = refusals;
        this.sessions = sessions;
    }

    @Override
    public void refused(String peer, SessionMessages.Error.Code code, String reason) {
        refusals.refused(peer, code, reason);
    }

    @Override
    public void record(String who, String action, String target, String result) {
        sessions.record(who, action, target, result);
    }
}
