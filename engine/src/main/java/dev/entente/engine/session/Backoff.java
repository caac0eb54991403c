package dev.entente.engine.session;

import java.util.Random;

/**
 * An agreement's retry delay after failures: from the minimum, doubling to the maximum, each
 * delay drawn at random from the upper half of the current step, so that nodes that failed
 * together do not retry together.
 */
public final class Backoff {
    private final long minMillis;
    private final long maxMillis;
    private final Random random;
    private long step;

    public Backoff(long minMillis, long maxMillis, Random random) {
        if (minMillis < 1 || maxMillis < minMillis) {
            throw new IllegalArgumentException("backoff needs 1 <= min <= max, got " + minMillis + " and " + maxMillis);
        }
        this.minMillis = minMillis;
        this.maxMillis = maxMillis;
        this.random = random;
        this.step = minMillis;
    }

    /** The delay before the next retry, in [step / 2, step]; the step then doubles, up to the maximum. */
    public long next() {
        long delay = step / 2 + random.nextLong(step / 2 + 1);
        step = Math.min(maxMillis, step * 2);
        return delay;
    }

    /** After a success, the next failure starts from the minimum again. */
    public void reset() {
        step = minMillis;
    }

    /** The step the next delay is drawn from (for status and checks). */
    public long step() {
        return step;
    }

    public long minMillis() {
        return minMillis;
    }

    public long maxMillis() {
        return maxMillis;
    }
}
