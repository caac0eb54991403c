package dev.entente.engine.session;

import dev.entente.protocol.SessionMessages.Error.Code;

/**
 * What sessions report to their node: refusals (for status and the log), the session record
 * (the audit log of a running node), and completed refreshes. Called on the session's thread; it
 * must not block.
 */
public interface SessionEvents {
    SessionEvents NONE = new SessionEvents() {
    };

    /** A session with {@code peer} was refused or failed, either way. */
    default void refused(String peer, Code code, String reason) {
    }

    /** One step of a session worth an audit line: a connection, a served refresh, a failure. */
    default void record(String who, String action, String target, String result) {
    }

    /** Agreement {@code agreement} replaced this node's content by its supplier's snapshot. */
    default void refreshed(String agreement) {
    }

    /** A peer's accepted Hello named its origin: status shows origins by name (the peer's word, for people only). */
    default void peerOrigin(String peer, dev.entente.engine.clock.OriginId origin) {
    }
}
