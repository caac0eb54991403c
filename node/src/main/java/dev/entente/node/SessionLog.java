package dev.entente.node;

/** Where a node records its replication sessions: connections, refreshes, failures (the audit log, in a running node). */
@FunctionalInterface
public interface SessionLog {
    SessionLog NONE = (who, action, target, result) -> { };

    void record(String who, String action, String target, String result);

    /** A pull of the consumer with this key ended, everything sent. */
    default void served(String consumerKey) {
    }

    /** A peer's accepted Hello named its origin. */
    default void peerOrigin(String peer, dev.entente.engine.clock.OriginId origin) {
    }
}
