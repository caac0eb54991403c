package dev.entente.engine;

import dev.entente.engine.session.InProcessReplication;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class ChangeFeedTest extends TwoNodes {

    @Test
    void localAndRemoteChangesArriveInCommitOrder() {
        long start = b.feed().lastSequence();
        UUID x = a.create("people", Attributes.ofText("name", "x"));
        UUID y = b.create("people", Attributes.ofText("name", "y"));
        TestNodes.pull(b, a);
        b.modify("people", y, AttributeChange.set("mail", "y@x"));
        b.delete("people", x);
        List<FeedEvent> events = b.feed().read(start, 100);
        assertEquals(4, events.size());
        assertEquals(new FeedEvent.Change(FeedEvent.Kind.CREATED, "people", y), events.get(0).changes().get(0));
        assertTrue(events.get(0).local());
        assertEquals(new FeedEvent.Change(FeedEvent.Kind.CREATED, "people", x), events.get(1).changes().get(0));
        assertFalse(events.get(1).local());
        assertEquals(FeedEvent.Kind.MODIFIED, events.get(2).changes().get(0).kind());
        assertEquals(FeedEvent.Kind.DELETED, events.get(3).changes().get(0).kind());
        for (int i = 1; i < events.size(); i++) {
            assertEquals(events.get(i - 1).sequence() + 1, events.get(i).sequence());
        }
    }

    @Test
    void aRefreshShowsUpAsAReset() {
        long start = b.feed().lastSequence();
        InProcessReplication.refresh(b, "b", a, "a", 1 << 20);
        List<FeedEvent> events = b.feed().read(start, 10);
        assertEquals(1, events.size());
        assertTrue(events.get(0).reset());
    }

    @Test
    void aCursorFromBeforeARefreshGetsTheResetNotAGap() {
        b.create("people", Attributes.ofText("name", "before"));
        long stale = b.feed().lastSequence() - 1;
        InProcessReplication.refresh(b, "b", a, "a", 1 << 20);
        List<FeedEvent> events = b.feed().read(stale, 10);
        assertEquals(1, events.size());
        assertTrue(events.get(0).reset());
    }

    @Test
    void aSubscriptionResumesAfterItsDurableCursorAcrossARestart() throws Exception {
        List<FeedEvent> seen = new CopyOnWriteArrayList<>();
        ChangeFeed.Subscription sub = a.feed().subscribe("indexer", seen::add);
        a.create("people", Attributes.ofText("name", "s1"));
        a.create("people", Attributes.ofText("name", "s2"));
        waitFor(() -> seen.size() == 3);
        sub.close();
        long acknowledged = a.feed().cursor("indexer");
        assertEquals(seen.get(2).sequence(), acknowledged);
        nodes.close(a);

        Engine again = nodes.open("a");
        again.create("people", Attributes.ofText("name", "s3"));
        List<FeedEvent> resumed = new CopyOnWriteArrayList<>();
        try (ChangeFeed.Subscription s2 = again.feed().subscribe("indexer", resumed::add)) {
            waitFor(() -> resumed.size() == 1);
            Thread.sleep(100);
            assertEquals(1, resumed.size(), "only what came after the cursor");
            assertEquals(acknowledged + 1, resumed.get(0).sequence());
        }
    }

    @Test
    void aFailingListenerStopsItsSubscriptionAndSaysWhere() throws Exception {
        ChangeFeed.Subscription sub = a.feed().subscribe("broken", e -> {
            throw new IllegalStateException("index full");
        });
        waitFor(() -> sub.failure() != null);
        assertEquals("index full", sub.failure().getMessage());
        assertEquals(0, a.feed().cursor("broken"), "the failed event was not acknowledged");
        sub.close();
    }

    @Test
    void aCursorOlderThanTheTrimmedFeedIsAGap() {
        a.create("people", Attributes.ofText("name", "f"));
        nodes.advance(Duration.ofDays(8));
        a.trimWindow();
        FeedGapException e = assertThrows(FeedGapException.class, () -> a.feed().read(0, 10));
        assertTrue(e.getMessage().contains("re-read"), e.getMessage());
        a.create("people", Attributes.ofText("name", "g"));
        assertEquals(1, a.feed().read(a.feed().lastSequence() - 1, 10).size());
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached within 10 s");
            }
            Thread.sleep(5);
        }
    }
}
