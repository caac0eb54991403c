package dev.entente.engine;

/**
 * What one pass of window trimming did.
 *
 * @param cutoffHlc changelog records and feed events older than this HLC (one window) were removed
 * @param reapCutoffHlc tombstones and discarded versions older than this HLC (two windows) were reaped
 */
public record TrimResult(long cutoffHlc, long reapCutoffHlc, long changesTrimmed, long tombstonesReaped, long versionsReaped, long feedEventsTrimmed) {
}
