package dev.entente.engine.session;

import dev.entente.protocol.SessionMessages.Frame;

/**
 * One end of a session's connection, as the session sees it: where its frames go. A node's link
 * writes to a TLS channel; the simulator's carries frames through its faulty network; in-process
 * replication hands them to the other session directly.
 */
public interface Link {
    /** Sends a frame; frames arrive in the order sent, or the connection is lost. */
    void send(Frame frame);

    /** Closes the connection; frames sent before are still delivered. Closing twice is harmless. */
    void close();
}
