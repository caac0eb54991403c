package dev.entente.engine;

import dev.entente.engine.clock.Cid;
import dev.entente.engine.clock.ClockSkewException;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.session.InProcessReplication;
import static dev.entente.engine.TestNodes.converge;
import static dev.entente.engine.TestNodes.pull;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The merge rules as two or three real engines see them after exchanging changes. */
class ReplicationTest extends TwoNodes {

    @Test
    void aNamespaceDefinedOnOneNodeAppearsOnTheOther() {
        a.transaction().defineNamespace("groups", Schema.builder().set("member").build()).commit();
        pull(b, a);
        assertEquals(a.namespace("groups"), b.namespace("groups"));
    }

    @Test
    void writesOnEitherNodeConvergeToOneDigest() {
        UUID x = a.create("people", Attributes.ofText("name", "x"));
        UUID y = b.create("people", Attributes.ofText("name", "y"));
        converge(a, b);
        assertEquals("y", a.get("people", y).orElseThrow().text("name"));
        assertEquals("x", b.get("people", x).orElseThrow().text("name"));
        assertEquals(a.digest(), b.digest());
        assertEquals(2, a.digest().entries());
    }

    @Test
    void registerConcurrentWritesTheHigherCidWinsWhole() {
        UUID id = a.create("people", Attributes.ofText("name", "r", "mail", "old@x"));
        pull(b, a);
        Cid first = a.modify("people", id, AttributeChange.set("mail", "from-a@x", "second@x"));
        nodes.advance(Duration.ofMillis(5));
        Cid second = b.modify("people", id, AttributeChange.set("mail", "from-b@x"));
        assertTrue(second.compareTo(first) > 0);
        converge(a, b);
        assertEquals(List.of("from-b@x"), a.get("people", id).orElseThrow().attributes().texts("mail"));
        assertEquals(a.digest(), b.digest());
    }

    @Test
    void setConcurrentAddsOfDifferentValuesAreAllKept() {
        UUID id = a.create("people", Attributes.builder().text("name", "s").text("memberof", "g0").build());
        pull(b, a);
        a.modify("people", id, AttributeChange.add("memberof", "ga"));
        b.modify("people", id, AttributeChange.add("memberof", "gb"), AttributeChange.remove("memberof", "g0"));
        converge(a, b);
        assertEquals(List.of("ga", "gb"), a.get("people", id).orElseThrow().attributes().texts("memberof"));
        assertEquals(a.digest(), b.digest());
    }

    @Test
    void setValueConcurrentAddAndRemoveTheLaterCidWins() {
        UUID id = a.create("people", Attributes.builder().text("name", "s2").text("memberof", "g").build());
        pull(b, a);
        b.modify("people", id, AttributeChange.remove("memberof", "g"));
        nodes.advance(Duration.ofMillis(1));
        a.modify("people", id, AttributeChange.remove("memberof", "g"));
        a.modify("people", id, AttributeChange.add("memberof", "g"));
        converge(a, b);
        assertEquals(List.of("g"), b.get("people", id).orElseThrow().attributes().texts("memberof"));
    }

    @Test
    void aTombstoneWinsOverConcurrentModificationsAndNeverComesBack() {
        UUID id = a.create("people", Attributes.ofText("name", "t"));
        pull(b, a);
        a.delete("people", id);
        nodes.advance(Duration.ofMillis(10));
        b.modify("people", id, AttributeChange.set("mail", "late@x"));
        converge(a, b);
        assertTrue(a.get("people", id).isEmpty());
        assertTrue(b.get("people", id).isEmpty());
        assertTrue(b.isDeleted("people", id));
        assertEquals(a.digest(), b.digest());
        assertEquals(1, a.digest().tombstones());
    }

    @Test
    void concurrentDeletesKeepTheLowerTombstoneCid() {
        UUID id = a.create("people", Attributes.ofText("name", "t2"));
        pull(b, a);
        a.delete("people", id);
        b.delete("people", id);
        converge(a, b);
        assertEquals(a.digest(), b.digest());
    }

    @Test
    void concurrentCreatesOfOneIdMakeAnEntryConflictKeptWhole() {
        UUID id = a.newEntryId();
        Cid ca = a.transaction().create("people", id, Attributes.ofText("name", "from-a", "mail", "a@x")).commit();
        nodes.advance(Duration.ofMillis(1));
        Cid cb = b.transaction().create("people", id, Attributes.ofText("name", "from-b", "mail", "b@x")).commit();
        assertTrue(ca.compareTo(cb) < 0);
        converge(a, b);
        for (Engine n : List.of(a, b)) {
            assertEquals("from-a", n.get("people", id).orElseThrow().text("name"), "the lower created CID keeps the id");
            ConflictedEntry c = n.conflict("people", id).orElseThrow();
            assertEquals(1, c.conflictVersions().size());
            assertEquals("from-b", c.conflictVersions().get(0).text("name"));
            assertEquals("b@x", c.conflictVersions().get(0).text("mail"), "kept whole");
            assertEquals(cb, c.conflictVersions().get(0).created());
        }
        assertEquals(a.digest(), b.digest());
        assertEquals(1, a.digest().conflicts());
    }

    @Test
    void discardingAConflictVersionResolvesItEverywhere() {
        UUID id = a.newEntryId();
        a.transaction().create("people", id, Attributes.ofText("name", "d-a")).commit();
        Cid cb = b.transaction().create("people", id, Attributes.ofText("name", "d-b")).commit();
        converge(a, b);
        Cid owner = a.get("people", id).orElseThrow().created();
        EntryNotFoundException e = assertThrows(EntryNotFoundException.class,
                () -> b.transaction().discardConflict("people", id, owner).commit());
        assertTrue(e.getMessage().contains("owns the id"), e.getMessage());
        b.transaction().discardConflict("people", id, cb).commit();
        converge(a, b);
        assertTrue(a.conflict("people", id).isEmpty());
        assertEquals(a.digest(), b.digest());
        assertEquals(0, a.digest().conflicts());
    }

    @Test
    void mergeConcurrentCreatesMergesAttributeByAttribute() {
        a.transaction().defineNamespace("kv", Schema.builder().mergeConcurrentCreates(true).build()).commit();
        pull(b, a);
        UUID id = a.newEntryId();
        a.transaction().create("kv", id, Attributes.ofText("k1", "a")).commit();
        nodes.advance(Duration.ofMillis(1));
        b.transaction().create("kv", id, Attributes.ofText("k2", "b")).commit();
        converge(a, b);
        Entry e = a.get("kv", id).orElseThrow();
        assertEquals("a", e.text("k1"));
        assertEquals("b", e.text("k2"));
        assertTrue(a.conflicts("kv", null, 10).items().isEmpty());
        assertEquals(a.digest(), b.digest());
    }

    @Test
    void replicationCanCreateAUniquenessConflictAndARenameClearsIt() {
        UUID x = a.create("people", Attributes.ofText("name", "sam"));
        UUID y = b.create("people", Attributes.ofText("name", "sam"));
        converge(a, b);
        for (Engine n : List.of(a, b)) {
            assertTrue(n.get("people", x).isEmpty(), "both are hidden: neither can be trusted to own the name");
            assertTrue(n.get("people", y).isEmpty());
            assertEquals(2, n.conflicts("people", null, 10).items().size());
            assertEquals("name=sam", n.conflict("people", x).orElseThrow().uniqueClashes().get(0).toString());
        }
        assertEquals(a.digest(), b.digest());
        b.modify("people", y, AttributeChange.set("name", "sam2"));
        converge(a, b);
        for (Engine n : List.of(a, b)) {
            assertEquals("sam", n.get("people", x).orElseThrow().text("name"));
            assertEquals("sam2", n.get("people", y).orElseThrow().text("name"));
            assertTrue(n.conflicts("people", null, 10).items().isEmpty());
        }
        assertEquals(a.digest(), b.digest());
    }

    @Test
    void deletingOneOfTheClashingEntriesClearsTheUniquenessConflict() {
        UUID x = a.create("people", Attributes.ofText("name", "kim"));
        UUID y = b.create("people", Attributes.ofText("name", "kim"));
        converge(a, b);
        a.delete("people", y);
        converge(a, b);
        assertEquals("kim", b.get("people", x).orElseThrow().text("name"));
        assertEquals(0, b.digest().conflicts());
    }

    @Test
    void aReplicatedSchemaChangeFlagsClashesInsteadOfRefusing() {
        a.create("people", Attributes.ofText("name", "m1", "mail", "m@x"));
        b.create("people", Attributes.ofText("name", "m2", "mail", "m@x"));
        a.transaction().defineNamespace("people", Schema.builder().unique("name", "mail").set("memberof").build()).commit();
        converge(a, b);
        assertEquals(2, b.conflicts("people", null, 10).items().size());
        assertEquals(a.digest(), b.digest());
    }

    @Test
    void validationConflictsAreFlaggedOnMerge() throws Exception {
        EntryValidator noBadMail = e -> "bad".equals(e.text("mail")) ? java.util.Optional.of("mail is bad") : java.util.Optional.empty();
        Engine v = nodes.open("v", o -> o.validators(java.util.Map.of("people", noBadMail)));
        InProcessReplication.refresh(v, "v", a, "a", 1 << 20);
        UUID id = a.create("people", Attributes.ofText("name", "val", "mail", "bad"));
        pull(v, a);
        assertTrue(v.get("people", id).isEmpty());
        assertEquals("mail is bad", v.conflict("people", id).orElseThrow().validationProblem());
    }

    @Test
    void changesTravelThroughAnIntermediateNode() {
        Engine c = nodes.open("c");
        InProcessReplication.refresh(c, "c", a, "a", 1 << 20);
        UUID id = a.create("people", Attributes.ofText("name", "hop"));
        pull(b, a);
        pull(c, b);
        assertEquals("hop", c.get("people", id).orElseThrow().text("name"));
        assertEquals(a.digest(), c.digest());
        assertTrue(c.ruv().covers(a.ruv()));
    }

    @Test
    void applyingTheSameBatchTwiceSkipsItTheSecondTime() {
        a.create("people", Attributes.ofText("name", "dup"));
        ChangeBatch batch;
        try (ChangeStream s = a.supplyChanges(b.ruv(), "b")) {
            batch = s.next(100, 1 << 20);
        }
        ApplyResult first = b.applyChanges(batch, "a");
        Digest d = b.digest();
        ApplyResult second = b.applyChanges(batch, "a");
        assertEquals(1, first.applied());
        assertEquals(0, second.applied());
        assertEquals(1, second.skipped());
        assertEquals(d, b.digest());
    }

    @Test
    void aBatchWithAGapIsRefusedWhole() {
        a.create("people", Attributes.ofText("name", "g1"));
        a.create("people", Attributes.ofText("name", "g2"));
        List<ByteString> records;
        try (ChangeStream s = a.supplyChanges(b.ruv(), "b")) {
            records = s.next(100, 1 << 20).records();
        }
        Digest before = b.digest();
        ChangeGapException e = assertThrows(ChangeGapException.class, () -> b.applyChanges(ChangeBatch.of(List.of(records.get(1))), "a"));
        assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains(a.originId().toString()), e.getMessage());
        assertEquals(before, b.digest());
    }

    @Test
    void aChangeTooFarInTheFutureIsRefusedAndNothingOfItsBatchApplied() {
        a.create("people", Attributes.ofText("name", "ok"));
        nodes.now.addAndGet(Duration.ofMinutes(10).toMillis());
        a.create("people", Attributes.ofText("name", "future"));
        nodes.now.addAndGet(-Duration.ofMinutes(10).toMillis());
        Digest before = b.digest();
        Ruv ruv = b.ruv();
        ClockSkewException e = assertThrows(ClockSkewException.class, () -> pull(b, a));
        assertTrue(e.getMessage().contains("supplier 'supplier'") && e.getMessage().contains(a.originId().toString())
                && e.getMessage().contains("600000 ms ahead"), e.getMessage());
        assertEquals(before, b.digest());
        assertEquals(ruv, b.ruv());
    }

    @Test
    void malformedRecordsAreRefusedWithTheSupplierNamed() {
        MalformedChangeException e = assertThrows(MalformedChangeException.class,
                () -> b.applyChanges(ChangeBatch.of(List.of(ByteString.copyFromUtf8("not a record"))), "evil"));
        assertTrue(e.getMessage().contains("'evil'"), e.getMessage());
    }

    @Test
    void receivingAChangeMovesTheClockPastIt() {
        nodes.now.addAndGet(Duration.ofMinutes(1).toMillis());
        UUID id = a.create("people", Attributes.ofText("name", "clock"));
        Cid remote = a.get("people", id).orElseThrow().created();
        nodes.now.addAndGet(-Duration.ofMinutes(1).toMillis());
        pull(b, a);
        UUID local = b.create("people", Attributes.ofText("name", "after"));
        assertTrue(b.get("people", local).orElseThrow().created().hlc() > remote.hlc());
    }

    @Test
    void refreshMakesAPerfectCloneWithANewOrigin() {
        for (int i = 0; i < 50; i++) {
            a.create("people", Attributes.ofText("name", "n" + i));
        }
        UUID gone = a.create("people", Attributes.ofText("name", "gone"));
        a.delete("people", gone);
        Engine c = nodes.open("c");
        OriginId before = c.originId();
        OriginId after = InProcessReplication.refresh(c, "c", a, "a", 2048);
        assertNotEquals(before, after);
        assertNotEquals(a.originId(), after);
        assertEquals(a.domainId(), c.domainId());
        assertEquals(a.digest(), c.digest());
        assertEquals(a.ruv(), c.ruv());
        assertTrue(c.isDeleted("people", gone));
        UUID more = c.create("people", Attributes.ofText("name", "from-c"));
        pull(a, c);
        assertEquals("from-c", a.get("people", more).orElseThrow().text("name"));
        UniquenessViolationException u = assertThrows(UniquenessViolationException.class,
                () -> c.create("people", Attributes.ofText("name", "n7")));
        assertNotNull(u.holder(), "the refreshed node rebuilt its unique index");
    }

    @Test
    void aRefreshCutOffHalfwayLeavesTheOldContent() throws Exception {
        for (int i = 0; i < 200; i++) {
            a.create("people", Attributes.ofText("name", "h" + i));
        }
        UUID mine = b.create("people", Attributes.ofText("name", "mine"));
        Digest before = b.digest();
        try (SnapshotExport export = a.exportSnapshot("b"); SnapshotImport imp = b.beginRefresh("a")) {
            imp.accept(export.nextChunk(1024));
            imp.accept(export.nextChunk(1024));
            assertThrows(IllegalStateException.class, imp::complete);
        }
        assertEquals(before, b.digest());
        assertEquals("mine", b.get("people", mine).orElseThrow().text("name"));
        nodes.close(b);
        Engine reopened = nodes.open("b");
        assertEquals(before, reopened.digest());
        try (var dirs = java.nio.file.Files.list(nodes.dir("b"))) {
            assertEquals(1, dirs.filter(p -> p.getFileName().toString().startsWith("store-")).count(), "the half-built store is gone");
        }
    }

    @Test
    void aRefreshCompletesOnceAndTheNodeKeepsWorking() {
        a.create("people", Attributes.ofText("name", "once"));
        try (SnapshotExport export = a.exportSnapshot("b"); SnapshotImport imp = b.beginRefresh("a")) {
            ByteString chunk;
            while ((chunk = export.nextChunk(1 << 20)) != null) {
                imp.accept(chunk);
            }
            imp.complete();
            assertThrows(IllegalStateException.class, imp::complete);
        }
        assertEquals(a.digest(), b.digest());
        b.create("people", Attributes.ofText("name", "after-refresh"));
        pull(a, b);
        assertEquals(a.digest(), b.digest());
    }

    @Test
    void aValidatorThatThrowsFlagsTheEntryInsteadOfStoppingReplication() throws Exception {
        EntryValidator broken = e -> {
            throw new IllegalStateException("validator bug");
        };
        Engine v = nodes.open("v", o -> o.validators(java.util.Map.of("people", broken)));
        InProcessReplication.refresh(v, "v", a, "a", 1 << 20);
        UUID id = a.create("people", Attributes.ofText("name", "vb"));
        pull(v, a);
        assertTrue(v.conflict("people", id).orElseThrow().validationProblem().contains("validator bug"));
    }

    @Test
    void aMalformedRefreshChunkIsRefusedAndTheOldContentStays() {
        UUID mine = b.create("people", Attributes.ofText("name", "keep"));
        try (SnapshotImport imp = b.beginRefresh("evil")) {
            assertThrows(MalformedChangeException.class, () -> imp.accept(ByteString.copyFromUtf8("garbage")));
        }
        assertEquals("keep", b.get("people", mine).orElseThrow().text("name"));
    }

    @Test
    void threeNodesWritingConcurrentlyConverge() throws Exception {
        Engine c = nodes.open("c");
        InProcessReplication.refresh(c, "c", a, "a", 1 << 20);
        List<Thread> writers = new ArrayList<>();
        for (Engine n : List.of(a, b, c)) {
            writers.add(new Thread(() -> {
                for (int i = 0; i < 200; i++) {
                    n.create("people", Attributes.ofText("name", n.originId().shortForm() + "-" + i));
                }
            }));
        }
        writers.forEach(Thread::start);
        for (int i = 0; i < 5; i++) {
            converge(a, b, c);
        }
        for (Thread t : writers) {
            t.join();
        }
        converge(a, b, c);
        assertEquals(a.digest(), b.digest());
        assertEquals(a.digest(), c.digest());
        assertEquals(600, a.digest().entries());
        assertFalse(a.digest().hex().isEmpty());
    }
}
