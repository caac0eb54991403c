package dev.entente.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PeerTextTest {
    @Test
    void nodeNamesAreLettersDigitsAndFewMarks() {
        assertTrue(PeerText.isNodeName("site-a.eu_1"));
        assertFalse(PeerText.isNodeName(""));
        assertFalse(PeerText.isNodeName("-a"));
        assertFalse(PeerText.isNodeName("a\nb"));
        assertFalse(PeerText.isNodeName("a".repeat(65)));
        assertFalse(PeerText.isNodeName(null));
    }

    @Test
    void peerTextCannotForgeALineOrGrowTheLog() {
        assertEquals("a\\u000aINFO forged", PeerText.quote("a\nINFO forged", 100));
        assertEquals("back\\\\slash \\u2028", PeerText.quote("back\\slash \u2028", 100));
        String cut = PeerText.quote("x".repeat(10_000), 10);
        assertEquals("xxxxxxxxxx... (9990 more characters)", cut);
        assertEquals("\"a\\u000ab\"", PeerText.name("a\nb"));
        assertEquals("site-a", PeerText.name("site-a"));
    }
}
