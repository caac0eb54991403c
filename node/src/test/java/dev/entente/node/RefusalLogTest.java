package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.protocol.SessionMessages.Error.Code;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class RefusalLogTest {

    @Test
    void aFloodFromOneHostCostsOneLineWhateverItsPorts() {
        RefusalLog log = new RefusalLog();
        int logged = 0;
        for (int port = 40_000; port < 41_000; port++) {
            if (log.refusedUnauthenticated(new InetSocketAddress("127.0.0.1", port), Code.NOT_AUTHORIZED, "no certificate")) {
                logged++;
            }
        }
        assertEquals(1, logged);
        assertEquals(999, log.suppressed());
        assertEquals(100, log.recent().size(), "status still keeps the last 100");
    }

    @Test
    void aFloodFromManyHostsCostsAtMostTwentyLinesPerQuietTimeAndLeavesThePinnedPeersTheirLines() {
        RefusalLog log = new RefusalLog();
        int logged = 0;
        for (int i = 0; i < 1000; i++) {
            String host = "10.0." + (i / 250) + "." + (i % 250);
            if (log.refusedUnauthenticated(new InetSocketAddress(host, 5000), Code.NOT_AUTHORIZED, "no certificate")) {
                logged++;
            }
        }
        assertEquals(20, logged);
        assertTrue(log.refused("site-b", "ab12", Code.SPLIT, "split"), "a pinned peer's refusal is still logged (and audited)");
        assertEquals(980, log.suppressed());
    }
}
