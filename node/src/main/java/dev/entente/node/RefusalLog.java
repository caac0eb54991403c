package dev.entente.node;

import dev.entente.protocol.SessionMessages;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/** The recent refusals of a node's transport, both ways, with their reasons: for status and tests. */
public final class RefusalLog {
    /** One refused or failed session: with whom, why. */
    public record Refusal(Instant at, String peer, SessionMessages.Error.Code code, String reason) {
    }

    private final Deque<Refusal> recent = new ArrayDeque<>();

    synchronized void refused(String peer, SessionMessages.Error.Code code, String reason) {
        recent.addLast(new Refusal(Instant.now(), peer, code, reason));
        if (recent.size() > 100) {
            recent.removeFirst();
        }
    }

    public synchronized List<Refusal> recent() {
        return List.copyOf(recent);
    }
}
