package dev.entente.testkit.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The peak heap in use, sampled every few milliseconds: the memory pools' own peaks are reached at
 * different moments, so their sum would overstate the peak.
 */
final class HeapSampler implements AutoCloseable {
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final AtomicLong peak = new AtomicLong();
    private final Thread thread;

    HeapSampler() {
        thread = new Thread(this::sample, "heap-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    private void sample() {
        while (!Thread.currentThread().isInterrupted()) {
            peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The highest heap use seen since start or the last reset. */
    long peak() {
        return peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
    }

    /** Starts a new peak from the heap in use now, so that a phase is measured alone. */
    void reset() {
        peak.set(memory.getHeapMemoryUsage().getUsed());
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
