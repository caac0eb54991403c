package dev.entente.engine.clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HybridClockTest {
    final AtomicLong wall = new AtomicLong(1_000_000);
    final OriginId origin = new OriginId(1, 2);

    @Test
    void localChangesTakeTheWallClockShiftedLeft() {
        HybridClock c = new HybridClock(wall::get, Duration.ofMinutes(5), 0);
        assertEquals(1_000_000L << 16, c.next());
        assertEquals((1_000_000L << 16) + 1, c.next(), "same millisecond: the counter moves");
    }

    @Test
    void theClockNeverGoesBackwardsWhenTheWallClockDoes() {
        HybridClock c = new HybridClock(wall::get, Duration.ofMinutes(5), 0);
        long first = c.next();
        wall.addAndGet(-10_000);
        long second = c.next();
        assertTrue(second > first);
    }

    @Test
    void counterOverflowBorrowsTheNextMillisecond() {
        HybridClock c = new HybridClock(wall::get, Duration.ofMinutes(5), (1_000_000L << 16) | 0xFFFF);
        long next = c.next();
        assertEquals(1_000_001L, HybridClock.physicalMillis(next));
        assertEquals(0, new Cid(next, origin).counter());
    }

    @Test
    void observingARemoteChangeOrdersTheNextLocalOneAfterIt() {
        HybridClock c = new HybridClock(wall::get, Duration.ofMinutes(5), 0);
        long remote = (1_000_500L << 16) + 7;
        c.observe(remote);
        assertEquals(remote + 1, c.next());
    }

    @Test
    void aRemoteChangeBeyondTheSkewLimitIsRefusedWithOriginAndSkew() {
        HybridClock c = new HybridClock(wall::get, Duration.ofMinutes(5), 0);
        Cid ok = new Cid((wall.get() + Duration.ofMinutes(5).toMillis()) << 16, origin);
        c.checkSkew(ok, "peer");
        Cid far = new Cid((wall.get() + Duration.ofMinutes(6).toMillis()) << 16, origin);
        ClockSkewException e = assertThrows(ClockSkewException.class, () -> c.checkSkew(far, "peer"));
        assertEquals(360_000, e.skewMillis());
        assertTrue(e.getMessage().contains(origin.toString()) && e.getMessage().contains("'peer'") && e.getMessage().contains("NTP"), e.getMessage());
    }
}
