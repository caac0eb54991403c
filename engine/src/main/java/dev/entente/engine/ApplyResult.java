package dev.entente.engine;

/**
 * What applying one batch did.
 *
 * @param applied records merged and appended to the changelog
 * @param skipped records this node already had (at or below its RUV for their origin)
 * @param newConflicts entries that became conflicted
 */
public record ApplyResult(int applied, int skipped, int newConflicts) {
}
