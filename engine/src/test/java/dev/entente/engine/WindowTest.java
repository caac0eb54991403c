package dev.entente.engine;

import dev.entente.engine.clock.Cid;
import dev.entente.engine.clock.HybridClock;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.session.InProcessReplication;
import static dev.entente.engine.TestNodes.pull;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The changelog window: trimming, reaping, lagging consumers and stale suppliers. */
class WindowTest extends TwoNodes {
    static final Duration WINDOW = Duration.ofHours(1);

    @Override
    Duration window() {
        return WINDOW;
    }

    @Test
    void trimmingMovesTheRuvTrimmedAndKeepsIdleOrigins() {
        a.create("people", Attributes.ofText("name", "old"));
        long max = a.ruv().max(a.originId());
        nodes.advance(WINDOW.plusMinutes(1));
        TrimResult r = a.trimWindow();
        assertEquals(2, r.changesTrimmed(), "the namespace definition and the create");
        assertEquals(max, a.ruv().trimmed(a.originId()));
        assertTrue(a.ruv().max(a.originId()) > max, "an origin idle for half a window writes an anchor, which is not trimmed yet");
        nodes.close(a);
        Engine again = open("a");
        assertEquals(max, again.ruv().trimmed(again.originId()), "trimmed is durable");
    }

    @Test
    void aConsumerBehindTheTrimmedChangelogMustRefreshAndThenRefusesToSupply() {
        UUID id = a.create("people", Attributes.ofText("name", "doomed"));
        a.delete("people", id);
        nodes.advance(WINDOW.plusMinutes(1));
        TrimResult first = a.trimWindow();
        assertEquals(0, first.tombstonesReaped(), "tombstones outlive the records by a window");
        assertTrue(a.isDeleted("people", id));
        nodes.advance(WINDOW);
        TrimResult r = a.trimWindow();
        assertEquals(1, r.tombstonesReaped());
        assertFalse(a.isDeleted("people", id), "reaped");

        RefreshRequiredException e = assertThrows(RefreshRequiredException.class, () -> pull(b, a));
        assertTrue(e.getMessage().contains("REFRESH_REQUIRED") && e.getMessage().contains(a.originId().toString()), e.getMessage());
        assertTrue(b.refreshRequired().isPresent(), "the consumer knows it lags");

        Engine c = open("c");
        RefreshRequiredException noSupply = assertThrows(RefreshRequiredException.class, () -> b.supplyChanges(c.ruv(), "c"));
        assertTrue(noSupply.getMessage().contains("supplies nobody"), noSupply.getMessage());
        assertThrows(RefreshRequiredException.class, () -> b.create("people", Attributes.ofText("name", "lost")));

        InProcessReplication.refresh(b, "b", a, "a", 4096);
        assertTrue(b.refreshRequired().isEmpty());
        assertEquals(a.digest(), b.digest());
        assertTrue(b.get("people", id).isEmpty(), "the deleted entry did not come back");
        pull(b, a);
    }

    @Test
    void aStaleSupplierIsDetectedAndMarksItself() {
        // b is cut off; a makes changes, trims them after the window; b then tries to supply a.
        a.create("people", Attributes.ofText("name", "while-b-was-away"));
        nodes.advance(WINDOW.plusMinutes(1));
        a.trimWindow();
        SupplierLaggingException e = assertThrows(SupplierLaggingException.class, () -> pull(a, b));
        assertTrue(e.getMessage().contains("consumer") && e.getMessage().contains("refreshed"), e.getMessage());
        assertTrue(b.refreshRequired().isPresent());
        assertTrue(a.refreshRequired().isEmpty());
    }

    @Test
    void aFreshNodeMustRefreshBeforePullingFromATrimmedMember() {
        nodes.advance(WINDOW.plusMinutes(1));
        a.trimWindow();
        Engine fresh = open("fresh");
        // A fresh engine has a domain of its own: the supplier's session refuses it until it joins by refreshing.
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pull(fresh, a));
        assertTrue(e.getMessage().contains("DOMAIN_MISMATCH") && e.getMessage().contains("join this domain by refreshing"), e.getMessage());
        InProcessReplication.refresh(fresh, "fresh", a, "a", 4096);
        assertEquals(a.digest(), fresh.digest());
    }

    @Test
    void recordsInsideTheWindowStay() {
        a.create("people", Attributes.ofText("name", "recent"));
        nodes.advance(WINDOW.minusMinutes(1));
        TrimResult r = a.trimWindow();
        assertEquals(0, r.changesTrimmed());
        pull(b, a);
        assertEquals(a.digest(), b.digest());
    }

    @Test
    void discardedConflictVersionsAreReapedAfterTheWindow() {
        UUID id = a.newEntryId();
        a.transaction().create("people", id, Attributes.ofText("name", "v-a")).commit();
        Cid cb = b.transaction().create("people", id, Attributes.ofText("name", "v-b")).commit();
        pull(a, b);
        a.transaction().discardConflict("people", id, cb).commit();
        nodes.advance(WINDOW.multipliedBy(2).plusMinutes(1));
        TrimResult r = a.trimWindow();
        assertEquals(1, r.versionsReaped());
        assertEquals("v-a", a.get("people", id).orElseThrow().text("name"));
    }

    @Test
    void aModificationConcurrentWithAReapedDeletionDoesNotBringTheEntryBack() {
        UUID id = a.create("people", Attributes.ofText("name", "ghost"));
        pull(b, a);
        Engine c = open("c");
        Engine d = open("d");
        InProcessReplication.refresh(c, "c", a, "a", 1 << 20);
        InProcessReplication.refresh(d, "d", a, "a", 1 << 20);
        a.delete("people", id);
        pull(c, a);
        pull(d, a);
        nodes.advance(Duration.ofMinutes(30));
        b.modify("people", id, AttributeChange.set("mail", "concurrent@x"));   // b has not seen the delete
        pull(d, b);
        assertTrue(d.isDeleted("people", id));
        nodes.advance(WINDOW.multipliedBy(2).minusMinutes(29));
        assertEquals(1, c.trimWindow().tombstonesReaped(), "the deletion is older than two windows on c");
        pull(c, d);   // d has not trimmed b's modification, so it supplies it
        assertTrue(c.get("people", id).isEmpty(), "the deleted entry stayed deleted");
        assertTrue(c.conflict("people", id).isEmpty());
        assertTrue(c.refreshRequired().isEmpty());
        assertEquals(0, c.digest().entries());
    }

    @Test
    void aNodeThatLostChangesOfItsOwnOriginTakesANewOneAndGetsThemBackFromItsPeers() throws Exception {
        a.create("people", Attributes.ofText("name", "kept"));
        nodes.close(a);
        Path backup = dir.resolve("a-backup");
        copyTree(nodes.dir("a"), backup);
        a = open("a");
        OriginId old = a.originId();
        UUID lost = a.create("people", Attributes.ofText("name", "lost-on-a"));
        pull(b, a);
        nodes.close(a);
        DataDirectory.deleteTree(nodes.dir("a"));
        copyTree(backup, nodes.dir("a"));
        a = open("a");
        assertTrue(a.get("people", lost).isEmpty(), "the disk lost it");
        pull(b, a);   // b holds more of a's origin than a: a takes a new one, and goes on serving
        assertFalse(a.originId().equals(old), "a new origin for a's future changes");
        assertTrue(a.refreshRequired().isEmpty(), "still in service");
        pull(a, b);
        assertEquals("lost-on-a", a.get("people", lost).orElseThrow().text("name"), "what a's disk lost came back from b");
        UUID after = a.create("people", Attributes.ofText("name", "after"));
        pull(b, a);
        assertTrue(b.get("people", after).isPresent());
        assertEquals(a.digest(), b.digest());
    }

    @Test
    void aConsumerClaimingChangesOfTheSuppliersOriginFromTheFutureIsRefusedAndChangesNothing() {
        a.create("people", Attributes.ofText("name", "x"));
        OriginId origin = a.originId();
        Ruv lie = b.ruv().with(origin, new Ruv.Range(Long.MAX_VALUE, 0));
        ImplausibleClaimException e = assertThrows(ImplausibleClaimException.class, () -> a.supplyChanges(lie, "b").close());
        assertTrue(e.getMessage().contains("later than this node's clock allows"), e.getMessage());
        assertEquals(origin, a.originId());
        assertTrue(a.refreshRequired().isEmpty());
    }

    @Test
    void aSupplierTakesANewOriginOnAConsumersWordAtMostOncePerWindow() throws Exception {
        a.create("people", Attributes.ofText("name", "x"));
        OriginId first = a.originId();
        long plausible = HybridClock.hlcOf(nodes.now.get() + 1000);
        a.supplyChanges(b.ruv().with(first, new Ruv.Range(plausible, 0)), "b").close();
        OriginId second = a.originId();
        assertFalse(second.equals(first));
        SplitException again = assertThrows(SplitException.class, () -> a.supplyChanges(b.ruv().with(second, new Ruv.Range(plausible, 0)), "b").close());
        assertTrue(again.getMessage().contains("at most one per window"), again.getMessage());
        assertEquals(second, a.originId(), "no second new origin within the window");
        assertTrue(a.refreshRequired().isEmpty(), "never marked on a consumer's word");
    }

    static void copyTree(Path from, Path to) throws java.io.IOException {
        try (var walk = java.nio.file.Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (java.nio.file.Files.isDirectory(p)) {
                    java.nio.file.Files.createDirectories(target);
                } else if (!p.getFileName().toString().equals("LOCK")) {
                    java.nio.file.Files.copy(p, target);
                }
            }
        }
    }

    @Test
    void aChangeOlderThanTheReapedHorizonIsRefused() {
        // b holds a change of its own that a never saw, older than a's reaped horizon: applying it
        // on a could revive what a reaped, so a must refresh instead.
        b.create("people", Attributes.ofText("name", "ancient"));
        nodes.advance(WINDOW.multipliedBy(2).plusMinutes(1));
        a.trimWindow();
        RefreshRequiredException e = assertThrows(RefreshRequiredException.class, () -> pull(a, b));
        assertTrue(e.getMessage().contains("reaped"), e.getMessage());
        assertTrue(a.refreshRequired().isPresent());
    }

    @Test
    void aRetiredOriginStaysInEveryRuvLongAfterItsLastChange() {
        b.create("people", Attributes.ofText("name", "from-b"));
        pull(a, b);
        OriginId retired = b.originId();
        long max = a.ruv().max(retired);
        InProcessReplication.refresh(b, "b", a, "a", 1 << 20);
        assertTrue(!b.originId().equals(retired), "a refresh gives b a new origin");
        for (int step = 0; step < 16; step++) {
            nodes.advance(WINDOW.dividedBy(4));
            a.trimWindow();
            b.trimWindow();
            pull(a, b);
            pull(b, a);
        }
        assertEquals(new Ruv.Range(max, max), a.ruv().origins().get(retired), "four windows on, all trimmed, still there");
        assertEquals(new Ruv.Range(max, max), b.ruv().origins().get(retired));
        assertTrue(a.refreshRequired().isEmpty() && b.refreshRequired().isEmpty(), "a retired origin both hold makes nobody stale");
        assertEquals(a.digest(), b.digest());
    }

    @Test
    void aNodeThatLacksTheTrimmedChangesOfAnOriginRetiredLongAgoIsStillToldSo() {
        // The shape a split leaves once an operator resolves it: a node current on every live
        // origin that never got what a since-retired origin wrote, however long ago that was.
        OriginId live = OriginId.parse("0123456789abcdef0123456789abcdef");
        OriginId retired = OriginId.parse("fedcba9876543210fedcba9876543210");
        long now = HybridClock.hlcOf(100L * WINDOW.toMillis());
        long longAgo = HybridClock.hlcOf(WINDOW.toMillis());
        Ruv supplier = Ruv.EMPTY.with(live, new Ruv.Range(now, now - 10)).with(retired, new Ruv.Range(longAgo, longAgo));
        Ruv consumer = Ruv.EMPTY.with(live, new Ruv.Range(now, now - 10));
        LaggingRule.Decision d = LaggingRule.decide(supplier, consumer, "c", LaggingRule.Evidence.NONE);
        assertEquals(LaggingRule.Verdict.CONSUMER_REFRESHES, d.verdict(), d.reason());
        assertTrue(d.reason().contains(retired.toString()), d.reason());
        LaggingRule.Decision reverse = LaggingRule.decide(consumer, supplier, "c", LaggingRule.Evidence.NONE);
        assertEquals(LaggingRule.Verdict.SUPPLIER_REFRESHES, reverse.verdict(), reverse.reason());
        assertEquals(List.of("origin " + retired + ": have 0, supplier has " + longAgo), ChangeConsumer.missing(consumer, supplier));
    }

    @Test
    void aNodeCutOffLongerThanTheWindowIsToldToRefreshInAQuietDomain() {
        UUID id = a.create("people", Attributes.ofText("name", "both-have-it"));
        pull(b, a);
        // b is cut off; a writes nothing more, so b lacks no change that touched an entry.
        for (int step = 0; step < 14; step++) {
            nodes.advance(WINDOW.dividedBy(4));
            a.trimWindow();
        }
        // What tells b it was cut off is a's anchors, trimmed since b last pulled.
        RefreshRequiredException e = assertThrows(RefreshRequiredException.class, () -> pull(b, a));
        assertTrue(e.getMessage().contains(a.originId().toString()), e.getMessage());
        InProcessReplication.refresh(b, "b", a, "a", 1 << 20);
        assertEquals("both-have-it", b.get("people", id).orElseThrow().text("name"));
    }
}
