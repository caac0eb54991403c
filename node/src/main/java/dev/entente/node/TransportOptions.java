package dev.entente.node;

import dev.entente.engine.session.SessionOptions;
import java.time.Duration;

/**
 * Limits and timings of the replication transport.
 *
 * @param maxFrameBytes largest frame either side accepts (checked before allocating)
 * @param batchRecords records per batch a consumer asks for
 * @param batchBytes bytes per batch (and per snapshot chunk) a consumer asks for: 1 MiB by
 *     default, a few thousand identity-like entries, so that a commit's decoded entries, all live
 *     until it is written, stay small for the young collections (W1's warm catch-up: 67,000
 *     entries/s against 48,000 at 4 MiB)
 * @param credit batches (or snapshot chunks) in flight at most: the memory bound of a session
 * @param handshakeTimeout a TLS handshake and Hello exchange that take longer are refused
 * @param minBackoff first retry delay after a failure; it doubles, with jitter
 * @param maxBackoff the retry delay stops growing here
 * @param maxSessions connections the replication server holds at most, authenticated or not
 * @param maxSessionsPerPeer sessions one pinned consumer may hold at once
 * @param silenceTimeout a peer that sends nothing it owes for this long (a consumer its credit or
 *     the rest of a frame, a supplier its batches or chunks) is cut
 */
public record TransportOptions(int maxFrameBytes, int batchRecords, long batchBytes, int credit,
                               Duration handshakeTimeout, Duration minBackoff, Duration maxBackoff, int maxSessions, int maxSessionsPerPeer,
                               Duration silenceTimeout) {

    public static final TransportOptions DEFAULTS = new TransportOptions(16 << 20, 1000, 1L << 20, 4,
            Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofSeconds(30));

    /** With the default session limits: 256 connections, 4 per consumer. */
    public TransportOptions(int maxFrameBytes, int batchRecords, long batchBytes, int credit, Duration handshakeTimeout, Duration minBackoff,
                            Duration maxBackoff) {
        this(maxFrameBytes, batchRecords, batchBytes, credit, handshakeTimeout, minBackoff, maxBackoff, 256, 4,
                SessionOptions.DEFAULTS.silenceTimeout());
    }

    public TransportOptions {
        if (batchBytes + (1 << 20) > maxFrameBytes) {
            throw new IllegalArgumentException("batchBytes (" + batchBytes + ") must leave room in maxFrameBytes (" + maxFrameBytes + ")");
        }
        if (credit < 1) {
            throw new IllegalArgumentException("credit must be at least 1, got " + credit);
        }
        if (maxSessions < 1 || maxSessionsPerPeer < 1) {
            throw new IllegalArgumentException("maxSessions and maxSessionsPerPeer must be at least 1, got " + maxSessions + " and " + maxSessionsPerPeer);
        }
    }

    /** What the sessions keep of these: a consumer's Hello must come within twice the handshake time. */
    public SessionOptions session() {
        return new SessionOptions(credit, batchRecords, batchBytes, handshakeTimeout.multipliedBy(2), minBackoff, maxBackoff,
                silenceTimeout);
    }

    public TransportOptions withHandshakeTimeout(Duration timeout) {
        return new TransportOptions(maxFrameBytes, batchRecords, batchBytes, credit, timeout, minBackoff, maxBackoff, maxSessions, maxSessionsPerPeer, silenceTimeout);
    }

    public TransportOptions withSessionLimits(int total, int perPeer) {
        return new TransportOptions(maxFrameBytes, batchRecords, batchBytes, credit, handshakeTimeout, minBackoff, maxBackoff, total, perPeer, silenceTimeout);
    }

    public TransportOptions withSilenceTimeout(Duration timeout) {
        return new TransportOptions(maxFrameBytes, batchRecords, batchBytes, credit, handshakeTimeout, minBackoff, maxBackoff, maxSessions,
                maxSessionsPerPeer, timeout);
    }
}
