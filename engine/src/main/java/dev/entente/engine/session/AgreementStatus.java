package dev.entente.engine.session;

import dev.entente.engine.Progress;
import java.time.Instant;

/**
 * What an agreement is doing and how it went, as its {@link ConsumerAgreement} reports it.
 *
 * @param lastError why the last session failed, or null after a success
 * @param bytes change batches and refresh chunks received
 * @param lagMillis how far behind the supplier this node was after its last batch
 * @param refresh how far the refresh in progress is, in entries and changelog records against the
 *                supplier's estimate; null unless {@code REFRESHING}
 */
public record AgreementStatus(String name, String supplier, State state, Instant lastSuccess, String lastError,
                         long changesApplied, long batches, long bytes, long lagMillis, long refreshes, long pulls, long pullMillis, Progress refresh) {

    /** Where an agreement is in its cycle of connecting, pulling and waiting. */
    public enum State { CONNECTING, CONNECTED, PULLING, IDLE, REFRESHING, BACKOFF, REFRESH_REQUIRED, STOPPED }
}
