package dev.entente.engine;

import java.time.Duration;
import java.util.OptionalLong;

/**
 * How far a long operation has gone (a refresh, a backup, a restore), for a person waiting on it.
 *
 * @param unit what {@code done} and {@code total} count: "records" or "bytes"
 * @param done how many are done
 * @param total how many there are, an estimate where the operation cannot know it in advance; 0 when unknown
 * @param bytes bytes moved so far (the same as {@code done} when the unit is bytes)
 * @param elapsed time since the operation started
 */
public record Progress(String unit, long done, long total, long bytes, Duration elapsed) {

    public Progress {
        if (done < 0 || total < 0 || bytes < 0 || elapsed.isNegative()) {
            throw new IllegalArgumentException("progress counts and time are never negative: " + done + ", " + total + ", " + bytes + ", " + elapsed);
        }
    }

    /** Units done per second so far; 0 before any time has passed. */
    public double perSecond() {
        double seconds = elapsed.toNanos() / 1e9;
        return seconds <= 0 ? 0 : done / seconds;
    }

    /**
     * Seconds left at the rate so far, when the total is known and not yet reached: an estimate
     * (a total that was an estimate may be passed, and then no time is given).
     */
    public OptionalLong secondsLeft() {
        double rate = perSecond();
        if (total == 0 || done >= total || rate <= 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of((long) Math.ceil((total - done) / rate));
    }
}
