package dev.entente.engine.session;

/**
 * Time and timers for a session. Every task it runs is serialized with the session's other
 * inputs (frames, connection events, operator requests): a session is called by one thread at a
 * time and holds no lock. A node backs it with its event loop and a serial executor; the
 * simulator with its simulated clock and event queue.
 */
public interface Scheduler {
    /** A monotonic clock, in nanoseconds. */
    long nanoTime();

    /** Runs {@code task} after {@code delayMillis}, unless the returned timer is cancelled first. */
    Timer schedule(long delayMillis, Runnable task);

    /** Runs {@code task} soon, after the input being handled now (for a commit listener's wake-up). */
    default void execute(Runnable task) {
        schedule(0, task);
    }

    /** A scheduled task. */
    interface Timer {
        /** The task will not run (if it has not started yet). */
        void cancel();
    }
}
