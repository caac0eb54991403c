package dev.entente.engine;

/**
 * What one pass of window trimming did.
 *
 * @param cutoffHlc records, tombstones and feed events older than this HLC were removed
 */
public record TrimResult(long cutoffHlc, long changesTrimmed, long tombstonesReaped, long versionsReaped, long feedEventsTrimmed) {
}
