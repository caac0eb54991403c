package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.OriginId;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalWriteTest {
    @TempDir
    Path dir;
    TestNodes nodes;
    Engine a;

    @BeforeEach
    void setUp() {
        nodes = new TestNodes(dir);
        a = nodes.open("a");
        a.transaction().defineNamespace("people", TestNodes.people()).commit();
    }

    @AfterEach
    void tearDown() throws Exception {
        nodes.close();
    }

    @Test
    void createdEntryReadsBackWithItsValues() {
        UUID id = a.create("people", Attributes.ofText("name", "alice", "mail", "a@example.org"));
        Entry e = a.get("people", id).orElseThrow();
        assertEquals("alice", e.text("name"));
        assertEquals("a@example.org", e.text("mail"));
        assertEquals(a.originId(), e.created().origin());
    }

    @Test
    void aCommitListenerThatThrowsDoesNotTurnADurableCommitIntoAFailure() throws Exception {
        java.util.concurrent.atomic.AtomicInteger after = new java.util.concurrent.atomic.AtomicInteger();
        UUID id;
        try (AutoCloseable broken = a.addCommitListener(() -> {
            throw new java.util.concurrent.RejectedExecutionException("a stopped transport's pool");
        }); AutoCloseable counting = a.addCommitListener(after::incrementAndGet)) {
            id = a.create("people", Attributes.ofText("name", "carol"));
            assertEquals(1, after.get(), "the listeners after the broken one still ran");
        }
        assertEquals("carol", a.get("people", id).orElseThrow().text("name"));
        a.create("people", Attributes.ofText("name", "dave"));
        assertEquals(1, after.get(), "a removed listener is not called");
    }

    @Test
    void registerModificationsSetAddRemoveAndClear() {
        UUID id = a.create("people", Attributes.ofText("name", "bob", "mail", "b1@x"));
        a.transaction().modify("people", id, AttributeChange.add("mail", "b2@x")).commit();
        assertEquals(List.of("b1@x", "b2@x"), a.get("people", id).orElseThrow().attributes().texts("mail"));
        a.transaction().modify("people", id, AttributeChange.remove("mail", "b1@x")).commit();
        assertEquals(List.of("b2@x"), a.get("people", id).orElseThrow().attributes().texts("mail"));
        a.transaction().modify("people", id, AttributeChange.set("mail", "b3@x")).commit();
        assertEquals(List.of("b3@x"), a.get("people", id).orElseThrow().attributes().texts("mail"));
        a.transaction().modify("people", id, AttributeChange.clear("mail")).commit();
        assertNull(a.get("people", id).orElseThrow().text("mail"));
    }

    @Test
    void setAttributeAddsAndRemovesSingleValues() {
        UUID id = a.create("people", Attributes.builder().text("name", "carol").text("memberof", "g1", "g2").build());
        a.transaction().modify("people", id, AttributeChange.add("memberof", "g3"), AttributeChange.remove("memberof", "g1")).commit();
        assertEquals(List.of("g2", "g3"), a.get("people", id).orElseThrow().attributes().texts("memberof"));
    }

    @Test
    void removeThenAddInOneTransactionKeepsTheValue() {
        UUID id = a.create("people", Attributes.builder().text("name", "dan").text("memberof", "g1").build());
        a.transaction().modify("people", id, AttributeChange.remove("memberof", "g1"), AttributeChange.add("memberof", "g1")).commit();
        assertEquals(List.of("g1"), a.get("people", id).orElseThrow().attributes().texts("memberof"));
        a.transaction().modify("people", id, AttributeChange.add("memberof", "g2"), AttributeChange.remove("memberof", "g2")).commit();
        assertEquals(List.of("g1"), a.get("people", id).orElseThrow().attributes().texts("memberof"));
    }

    @Test
    void laterOperationOnTheSameAttributeInATransactionWins() {
        UUID id = a.newEntryId();
        a.transaction().create("people", id, Attributes.ofText("name", "erin", "mail", "zzz"))
                .modify("people", id, AttributeChange.set("mail", "aaa")).commit();
        assertEquals("aaa", a.get("people", id).orElseThrow().text("mail"));
    }

    @Test
    void deletedEntryIsGoneAndItsIdCannotBeReused() {
        UUID id = a.create("people", Attributes.ofText("name", "frank"));
        a.transaction().delete("people", id).commit();
        assertTrue(a.get("people", id).isEmpty());
        assertTrue(a.isDeleted("people", id));
        EntryExistsException e = assertThrows(EntryExistsException.class,
                () -> a.transaction().create("people", id, Attributes.ofText("name", "frank")).commit());
        assertTrue(e.getMessage().contains("was deleted"), e.getMessage());
        assertThrows(EntryNotFoundException.class, () -> a.transaction().modify("people", id, AttributeChange.set("mail", "x")).commit());
        assertThrows(EntryNotFoundException.class, () -> a.transaction().delete("people", id).commit());
    }

    @Test
    void uniqueValueHeldByAnotherEntryIsRefusedAndNothingIsWritten() {
        UUID alice = a.create("people", Attributes.ofText("name", "alice"));
        Ruv before = a.ruv();
        Transaction tx = a.transaction();
        UUID other = a.newEntryId();
        tx.create("people", other, Attributes.ofText("name", "zed"));
        tx.create("people", a.newEntryId(), Attributes.ofText("name", "alice"));
        UniquenessViolationException e = assertThrows(UniquenessViolationException.class, tx::commit);
        assertEquals(alice, e.holder());
        assertTrue(e.getMessage().contains("'name'") && e.getMessage().contains("alice"), e.getMessage());
        assertTrue(a.get("people", other).isEmpty(), "the whole transaction is refused");
        assertEquals(before, a.ruv(), "no change was recorded");
    }

    @Test
    void aTransactionMaySwapUniqueValues() {
        UUID x = a.create("people", Attributes.ofText("name", "x"));
        UUID y = a.create("people", Attributes.ofText("name", "y"));
        a.transaction().modify("people", x, AttributeChange.set("name", "y")).modify("people", y, AttributeChange.set("name", "x")).commit();
        assertEquals("y", a.get("people", x).orElseThrow().text("name"));
        assertEquals("x", a.get("people", y).orElseThrow().text("name"));
        assertTrue(a.conflicts("people", null, 10).items().isEmpty());
    }

    @Test
    void aValueOverTheLimitIsRefusedWithTheSettingNamed() {
        ByteString big = ByteString.copyFrom(new byte[256 * 1024 + 1]);
        LimitExceededException e = assertThrows(LimitExceededException.class, () -> a.transaction()
                .create("people", a.newEntryId(), Attributes.builder().text("name", "g").bytes("photo", big.toByteArray()).build()).commit());
        assertTrue(e.getMessage().contains("maxValueBytes") && e.getMessage().contains("'photo'"), e.getMessage());
    }

    @Test
    void aTransactionOverTheLimitIsRefused() throws Exception {
        Engine small = nodes.open("small", b -> b.maxValueBytes(1000).maxTransactionBytes(4000));
        small.transaction().defineNamespace("ns", Schema.EMPTY).commit();
        Transaction tx = small.transaction();
        for (int i = 0; i < 10; i++) {
            tx.create("ns", small.newEntryId(), Attributes.builder().bytes("blob", new byte[900]).build());
        }
        LimitExceededException e = assertThrows(LimitExceededException.class, tx::commit);
        assertTrue(e.getMessage().contains("maxTransactionBytes"), e.getMessage());
        assertTrue(small.list("ns", null, 100).items().isEmpty());
    }

    @Test
    void unknownNamespaceIsRefusedWithWhatToDo() {
        UnknownNamespaceException e = assertThrows(UnknownNamespaceException.class,
                () -> a.create("groups", Attributes.ofText("name", "g")));
        assertTrue(e.getMessage().contains("defineNamespace"), e.getMessage());
        assertThrows(UnknownNamespaceException.class, () -> a.get("groups", UUID.randomUUID()));
    }

    @Test
    void badNamesAreRefused() {
        assertThrows(InvalidWriteException.class, () -> a.transaction().defineNamespace("Bad Name", Schema.EMPTY));
        assertThrows(InvalidWriteException.class, () -> Attributes.ofText("9lives", "x"));
        assertThrows(InvalidWriteException.class, () -> a.commit(List.of()));
    }

    @Test
    void schemaChangeThatExistingDataViolatesIsRefused() {
        a.create("people", Attributes.ofText("name", "h1", "mail", "same@x"));
        a.create("people", Attributes.ofText("name", "h2", "mail", "same@x"));
        SchemaViolationException e = assertThrows(SchemaViolationException.class, () -> a.transaction()
                .defineNamespace("people", Schema.builder().unique("name", "mail").set("memberof").build()).commit());
        assertTrue(e.getMessage().contains("'mail'") && e.getMessage().contains("same@x"), e.getMessage());
        assertEquals(TestNodes.people(), a.namespace("people").orElseThrow().schema(), "the old schema stays");
        SchemaViolationException k = assertThrows(SchemaViolationException.class, () -> a.transaction()
                .defineNamespace("people", Schema.builder().unique("name").set("memberof", "mail").build()).commit());
        assertTrue(k.getMessage().contains("register and set"), k.getMessage());
    }

    @Test
    void schemaChangeThatDataAllowsBuildsTheUniqueIndex() {
        UUID id = a.create("people", Attributes.ofText("name", "i1", "mail", "i@x"));
        a.transaction().defineNamespace("people", Schema.builder().unique("name", "mail").set("memberof").build()).commit();
        UniquenessViolationException e = assertThrows(UniquenessViolationException.class,
                () -> a.create("people", Attributes.ofText("name", "i2", "mail", "i@x")));
        assertEquals(id, e.holder());
    }

    @Test
    void noOpTransactionRecordsNothing() {
        UUID id = a.create("people", Attributes.ofText("name", "j"));
        Ruv before = a.ruv();
        assertNull(a.transaction().modify("people", id, AttributeChange.set("name", "j")).commit());
        assertNull(a.transaction().defineNamespace("people", TestNodes.people()).commit());
        assertEquals(before, a.ruv());
    }

    @Test
    void validatorRefusesInvalidLocalWrites() throws Exception {
        Engine v = nodes.open("v", b -> b.validators(java.util.Map.of("people",
                e -> e.text("mail") != null && !e.text("mail").contains("@") ? Optional.of("mail needs an @") : Optional.empty())));
        v.transaction().defineNamespace("people", Schema.EMPTY).commit();
        ValidationException e = assertThrows(ValidationException.class,
                () -> v.create("people", Attributes.ofText("mail", "nope")));
        assertTrue(e.getMessage().contains("mail needs an @"));
        assertNotNull(v.create("people", Attributes.ofText("mail", "ok@x")));
    }

    @Test
    void listingPagesThroughLiveEntriesInIdOrder() {
        for (int i = 0; i < 25; i++) {
            a.create("people", Attributes.ofText("name", "p" + i));
        }
        UUID gone = a.list("people", null, 1).items().get(0).id();
        a.transaction().delete("people", gone).commit();
        int seen = 0;
        UUID after = null;
        UUID previous = null;
        do {
            Page<Entry> page = a.list("people", after, 10);
            for (Entry e : page.items()) {
                assertFalse(e.id().equals(gone));
                if (previous != null) {
                    assertTrue(java.util.Arrays.compareUnsigned(dev.entente.protocol.Ids.bytes(previous), dev.entente.protocol.Ids.bytes(e.id())) < 0);
                }
                previous = e.id();
                seen++;
            }
            after = page.nextAfter();
        } while (after != null);
        assertEquals(24, seen);
    }

    @Test
    void dataSurvivesReopening() {
        UUID id = a.create("people", Attributes.ofText("name", "k"));
        Ruv ruv = a.ruv();
        long hlc = a.lastHlc();
        OriginId origin = a.originId();
        nodes.close(a);
        Engine again = nodes.open("a");
        assertEquals("k", again.get("people", id).orElseThrow().text("name"));
        assertEquals(ruv, again.ruv());
        assertEquals(origin, again.originId());
        assertTrue(again.lastHlc() >= hlc);
    }

    @Test
    void aDataDirectoryIsUsedByOneEngineAtATime() {
        StoreException e = assertThrows(StoreException.class, () -> nodes.open("a"));
        assertTrue(e.getMessage().contains("in use"), e.getMessage());
    }
}
