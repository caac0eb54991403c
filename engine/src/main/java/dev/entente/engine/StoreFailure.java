package dev.entente.engine;

import java.time.Instant;

/**
 * Why this node's store cannot commit now: what the last failed commit said, whether the cause is
 * a full disk (which passes once space returns) and since when commits have failed.
 *
 * @param reason the store's error and what to do, as a person reads it
 * @param diskFull the volume is full: writes resume by themselves once space is freed
 * @param since when the first of the failing commits failed
 */
public record StoreFailure(String reason, boolean diskFull, Instant since) {
}
