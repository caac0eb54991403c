package dev.entente.node;

import dev.entente.protocol.SessionMessages;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The recent refusals of a node's transport, both ways, with their reasons: for status and tests;
 * and the log lines they make, at most one per peer per {@link #QUIET_MILLIS}, so that a peer
 * refused again and again (or a flood of peers) costs the log a line now and then with the
 * count of the refusals it did not show.
 */
public final class RefusalLog {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RefusalLog.class);
    static final long QUIET_MILLIS = 10_000;
    /** Peers whose log rate is tracked; the least recently refused is forgotten beyond it. */
    private static final int TRACKED_PEERS = 256;

    /**
     * One refused or failed session: with whom, why.
     *
     * @param peer the configured name of the peer, or its address when it never authenticated
     * @param key the SHA-256 of the peer's public key, hex, when it authenticated; else null
     */
    public record Refusal(Instant at, String peer, String key, SessionMessages.Error.Code code, String reason) {
    }

    private record Rate(long lastLoggedMillis, long suppressed) {
    }

    private final Deque<Refusal> recent = new ArrayDeque<>();
    private final Map<String, Rate> rates = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Rate> eldest) {
            return size() > TRACKED_PEERS;
        }
    };
    private long suppressedTotal;
    /** Lines of unauthenticated hosts logged in one quiet time: many hosts cost the log no more than this. */
    private static final int MAX_LINES = 20;
    private long unauthenticatedNotLogged;
    private long windowStart;
    private int linesInWindow;

    /**
     * Records a refusal, and logs it unless this peer was logged within the quiet time.
     *
     * @param peer the configured name of the peer, or its address when it is not authenticated
     * @return whether it was logged (an audit line may follow it then)
     */
    synchronized boolean refused(String peer, SessionMessages.Error.Code code, String reason) {
        return refused(peer, null, code, reason);
    }

    /** The same, for a peer whose key ({@code key}, SHA-256 hex) authenticated. */
    synchronized boolean refused(String peer, String key, SessionMessages.Error.Code code, String reason) {
        return record(peer, key, code, reason, false);
    }

    /**
     * A refusal of a connection that never authenticated, named by its host: besides the line per
     * host, such refusals share {@link #MAX_LINES} lines per quiet time, so that a flood from many
     * hosts cannot fill the log, nor take the lines of the pinned peers' refusals.
     */
    synchronized boolean refusedUnauthenticated(java.net.SocketAddress remote, SessionMessages.Error.Code code, String reason) {
        return record(address(remote), null, code, reason, true);
    }

    private boolean record(String peer, String key, SessionMessages.Error.Code code, String reason, boolean unauthenticated) {
        recent.addLast(new Refusal(Instant.now(), peer, key, code, reason));
        if (recent.size() > 100) {
            recent.removeFirst();
        }
        long now = System.currentTimeMillis();
        if (now - windowStart >= QUIET_MILLIS) {
            windowStart = now;
            linesInWindow = 0;
        }
        Rate r = rates.get(peer);
        boolean quiet = r != null && now - r.lastLoggedMillis() < QUIET_MILLIS;
        if (quiet || unauthenticated && linesInWindow >= MAX_LINES) {
            // A host held back by the shared budget alone may be logged in the next quiet time.
            rates.put(peer, r == null ? new Rate(now - QUIET_MILLIS, 1) : new Rate(r.lastLoggedMillis(), r.suppressed() + 1));
            suppressedTotal++;
            if (!quiet) {
                unauthenticatedNotLogged++;
            }
            return false;
        }
        long before = r == null ? 0 : r.suppressed();
        String others = "";
        if (unauthenticated) {
            linesInWindow++;
            if (unauthenticatedNotLogged > 0) {
                others = "; " + unauthenticatedNotLogged + " refusals of other unauthenticated hosts were not logged";
                unauthenticatedNotLogged = 0;
            }
        }
        rates.put(peer, new Rate(now, 0));
        LOG.warn("refused " + peer + (key == null ? "" : " (key SHA-256 " + key + ")") + ": " + code + ": " + reason
                + (before > 0 ? " (and " + before + " more refusals of " + peer + " in the last " + (now - r.lastLoggedMillis()) + " ms, not logged)" : "")
                + others);
        return true;
    }

    /** The peer's address as refusals name it: its host, not the port of its connection, so that each connection is not a new peer. */
    static String address(java.net.SocketAddress remote) {
        return remote instanceof java.net.InetSocketAddress a && a.getAddress() != null ? a.getAddress().getHostAddress() : String.valueOf(remote);
    }

    public synchronized List<Refusal> recent() {
        return List.copyOf(recent);
    }

    /** Refusals not logged: their peer had been logged within the quiet time, or (unauthenticated) the shared budget was spent. */
    public synchronized long suppressed() {
        return suppressedTotal;
    }
}
