package dev.entente.engine.session;

/**
 * What one requested sync did, as {@link ConsumerAgreement#sync} reports it.
 *
 * @param applied changes applied by the pull
 * @param error why it failed, or null
 */
public record SyncResult(String agreement, boolean ok, long applied, long batches, long bytes, long millis, String error) {
}
