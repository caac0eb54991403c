package dev.entente.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The README's main job runs and converges (a smaller run of it). */
class DemoTest {
    @Test
    void theDemoConvergesAndExitsZero() throws Exception {
        assertEquals(0, Demo.run(new String[] {"--entries", "500"}));
    }

    @Test
    void wrongUsageIsRefused() throws Exception {
        assertEquals(2, Demo.run(new String[] {"--bogus"}));
    }
}
