package dev.entente.engine.session;

import java.time.Duration;

/**
 * The limits and timings a session keeps.
 *
 * @param credit batches (or snapshot chunks) a consumer lets be in flight: the memory bound of a
 *     session on both sides
 * @param batchRecords records per batch a consumer asks for
 * @param batchBytes bytes per batch and per snapshot chunk a consumer asks for
 * @param helloTimeout a supplier refuses a consumer whose Hello has not come by then
 * @param minBackoff the first retry delay of an agreement after a failure; it doubles, with jitter
 * @param maxBackoff the retry delay stops growing here
 * @param silenceTimeout a consumer waiting for its supplier (its Hello, a batch, a chunk, the end of
 *     a stream) that hears nothing for this long ends the session and connects again
 */
public record SessionOptions(int credit, int batchRecords, long batchBytes, Duration helloTimeout, Duration minBackoff,
                             Duration maxBackoff, Duration silenceTimeout) {

    public static final SessionOptions DEFAULTS = new SessionOptions(4, 1000, 1L << 20, Duration.ofSeconds(20),
            Duration.ofMillis(100), Duration.ofSeconds(30), Duration.ofSeconds(60));

    public SessionOptions {
        if (credit < 1) {
            throw new IllegalArgumentException("credit must be at least 1, got " + credit);
        }
        if (batchRecords < 1 || batchBytes < 1) {
            throw new IllegalArgumentException("batchRecords and batchBytes must be positive, got " + batchRecords + " and " + batchBytes);
        }
        if (minBackoff.isNegative() || minBackoff.isZero() || maxBackoff.compareTo(minBackoff) < 0) {
            throw new IllegalArgumentException("backoff must be positive with maxBackoff >= minBackoff, got " + minBackoff + " and " + maxBackoff);
        }
        if (silenceTimeout.isNegative() || silenceTimeout.isZero()) {
            throw new IllegalArgumentException("silenceTimeout must be positive, got " + silenceTimeout);
        }
    }
}
