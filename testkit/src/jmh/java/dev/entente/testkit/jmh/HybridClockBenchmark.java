package dev.entente.testkit.jmh;

import dev.entente.engine.clock.HybridClock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The hybrid logical clock: stamping a local commit, and observing a remote CID. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HybridClockBenchmark {
    private HybridClock clock;
    private long remote;

    @Setup
    public void setup() {
        clock = new HybridClock(System::currentTimeMillis, Duration.ofMinutes(5), 0);
        remote = HybridClock.hlcOf(System.currentTimeMillis());
    }

    @Benchmark
    public long next() {
        return clock.next();
    }

    @Benchmark
    public long observeThenNext() {
        clock.observe(remote++);
        return clock.next();
    }
}
