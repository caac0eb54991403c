package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.engine.session.InProcessReplication;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A split longer than the window on both sides: c is cut off from a and b for 1.6 windows and
 * writes meanwhile, while a deletes entries and a and b keep writing and replicating. Each side
 * then holds trimmed changes the other lacks. Only c, the node cut off, pays, whichever link
 * comes back first; the entries deleted on a stay deleted.
 */
class MutualStalenessTest extends TwoNodes {
    private static final Duration WINDOW = Duration.ofHours(1);
    private Engine c;
    private final List<UUID> deletedOnA = new ArrayList<>();

    @Override
    Duration window() {
        return WINDOW;
    }

    @BeforeEach
    void splitForOnePointSixWindows() {
        c = open("c");
        InProcessReplication.refresh(c, "c", a, "a", 1 << 20);
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add(a.create("people", Attributes.ofText("name", "p" + i)));
        }
        TestNodes.converge(a, b, c);
        // c is cut off; a and b go on, in contact with each other every few minutes.
        c.create("people", Attributes.ofText("name", "written-on-c-while-cut-off"));
        for (UUID id : ids) {
            a.delete("people", id);
            deletedOnA.add(id);
        }
        for (int step = 0; step < 20; step++) {
            nodes.advance(WINDOW.multipliedBy(8).dividedBy(100));
            a.create("people", Attributes.ofText("name", "a" + step));
            b.create("people", Attributes.ofText("name", "b" + step));
            TestNodes.pull(a, b);
            TestNodes.pull(b, a);
            a.trimWindow();
            b.trimWindow();
            c.trimWindow();
        }
    }

    private void assertOnlyCPaidAndNothingCameBack() {
        assertTrue(c.refreshRequired().isPresent(), "c, cut off, must be refreshed");
        assertTrue(a.refreshRequired().isEmpty(), "a stayed current with b: " + a.refreshRequired());
        assertTrue(b.refreshRequired().isEmpty());
        InProcessReplication.refresh(c, "c", a, "a", 1 << 20);
        TestNodes.converge(a, b, c);
        assertEquals(a.digest(), c.digest());
        assertEquals(a.digest(), b.digest());
        for (UUID id : deletedOnA) {
            assertFalse(c.get("people", id).isPresent(), "an entry deleted on a came back");
        }
        assertEquals(20 + 20, a.list("people", null, 100).items().size(), "every write of a and b is kept");
    }

    @Test
    void whenTheCutOffNodePullsFirstItIsToldToRefresh() {
        RefreshRequiredException e = assertThrows(RefreshRequiredException.class, () -> InProcessReplication.pull(c, "c", a, "a", 50));
        assertTrue(e.getMessage().contains("did not, so it was cut off"), e.getMessage());
        assertOnlyCPaidAndNothingCameBack();
    }

    @Test
    void whenTheCurrentNodePullsFirstTheCutOffSupplierMarksItself() {
        SupplierLaggingException e = assertThrows(SupplierLaggingException.class, () -> InProcessReplication.pull(a, "a", c, "c", 50));
        assertTrue(e.getMessage().contains("stayed in contact with other nodes and this node did not"), e.getMessage());
        assertEquals("a", c.refreshFrom().orElseThrow(), "c refreshes from the node that found it stale");
        assertOnlyCPaidAndNothingCameBack();
    }

    @Test
    void twoNodesThatEachStayedInContactWithOthersStopAndNeitherIsMarked() {
        // d joins c's side before the heal and pulls from it: now both sides stayed in contact.
        Engine d = open("d");
        InProcessReplication.refresh(d, "d", c, "c", 1 << 20);
        InProcessReplication.pull(c, "c", d, "d", 50);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> InProcessReplication.pull(c, "c", a, "a", 50));
        assertTrue(e.getMessage().contains("SPLIT") && e.getMessage().contains("an operator chooses"), e.getMessage());
        assertTrue(a.refreshRequired().isEmpty());
        assertTrue(c.refreshRequired().isEmpty());
    }
}
