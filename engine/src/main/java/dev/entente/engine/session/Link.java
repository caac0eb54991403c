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

    /**
     * Whether the peer has taken what was sent so far (the transport's send buffer is below its
     * limit). A supplier sends no batch or chunk while it is not, whatever credit it holds, so a
     * peer that grants credit and does not read cannot make it buffer without bound; the
     * transport calls {@link SupplierSession#writable()} when it is again.
     */
    default boolean writable() {
        return true;
    }
}
