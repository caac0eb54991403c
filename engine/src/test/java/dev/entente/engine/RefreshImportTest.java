package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.entente.protocol.Wire;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A refresh's import writes the snapshot's entries and changelog into sorted files in the order
 * they arrive: a supplier that breaks that order is refused, and the node stays as it was.
 */
class RefreshImportTest {

    private static List<ByteString> snapshot(Engine supplier) {
        List<ByteString> chunks = new ArrayList<>();
        try (SnapshotExport x = supplier.exportSnapshot("b")) {
            for (ByteString c; (c = x.nextChunk(1 << 20)) != null; ) {
                chunks.add(c);
            }
        }
        return chunks;
    }

    /** The chunks with the entries (or records) of every chunk changed by {@code change}. */
    private static List<ByteString> tampered(List<ByteString> chunks, UnaryOperator<Wire.SnapshotChunk.Builder> change) throws Exception {
        List<ByteString> out = new ArrayList<>();
        for (ByteString c : chunks) {
            out.add(change.apply(Wire.SnapshotChunk.parseFrom(c).toBuilder()).build().toByteString());
        }
        return out;
    }

    @Test
    void entriesOrRecordsOutOfOrderOrRepeatedAreRefusedAndTheNodeStaysAsItWas(@TempDir Path dir) throws Exception {
        try (TestNodes nodes = new TestNodes(dir)) {
            Engine a = nodes.open("a");
            Engine b = nodes.open("b");
            a.transaction().defineNamespace("people", Schema.builder().unique("name").build()).commit();
            for (int i = 0; i < 50; i++) {
                a.create("people", Attributes.ofText("name", "p" + i));
            }
            b.transaction().defineNamespace("local", Schema.builder().build()).commit();
            Digest before = b.digest();
            List<ByteString> good = snapshot(a);
            List<List<ByteString>> bad = List.of(
                    tampered(good, c -> {
                        List<Wire.StoredEntry> e = new ArrayList<>(c.getEntriesList());
                        java.util.Collections.reverse(e);
                        return c.clearEntries().addAllEntries(e);
                    }),
                    // a repeated entry, with the trailer's count made to agree
                    tampered(good, c -> c.getEntriesCount() == 0 ? c : c.addEntries(c.getEntries(0))
                            .setTrailer(c.getTrailer().toBuilder().setEntries(c.getTrailer().getEntries() + 1))),
                    tampered(good, c -> c.getChangesCount() == 0 ? c : c.addChanges(c.getChanges(0))));
            for (List<ByteString> chunks : bad) {
                MalformedChangeException e = assertThrows(MalformedChangeException.class, () -> {
                    try (SnapshotImport imp = b.beginRefresh("a")) {
                        for (ByteString c : chunks) {
                            imp.accept(c);
                        }
                        imp.complete();
                    }
                });
                assertTrue(e.getMessage().contains("out of order") && e.getMessage().contains("'a'"), e.getMessage());
                assertEquals(before, b.digest(), "the node keeps its content");
            }
            try (SnapshotImport imp = b.beginRefresh("a")) {
                for (ByteString c : good) {
                    imp.accept(c);
                }
                imp.complete();
            }
            assertEquals(a.digest(), b.digest(), "a good snapshot still goes in after the refused ones");
            assertTrue(b.checkIntegrity().isEmpty(), b.checkIntegrity().toString());
            b.create("people", Attributes.ofText("name", "after"));
            assertEquals(51, b.digest().entries(), "the refreshed store takes commits");
        }
    }

    @Test
    void aRecordBeyondTheSnapshotsRuvOrBeforeItsPredecessorIsRefusedAndAFailedImportCannotGoOn(@TempDir Path dir) throws Exception {
        try (TestNodes nodes = new TestNodes(dir)) {
            Engine a = nodes.open("a");
            Engine b = nodes.open("b");
            a.transaction().defineNamespace("people", Schema.builder().build()).commit();
            a.create("people", Attributes.ofText("name", "p"));
            List<ByteString> good = snapshot(a);
            for (UnaryOperator<Wire.ChangeRecord.Builder> bad : List.<UnaryOperator<Wire.ChangeRecord.Builder>>of(
                    r -> r.setHlc(r.getHlc() + 1_000_000).setPrevHlc(r.getHlc()),
                    r -> r.setHlc(r.getHlc() + 1).setPrevHlc(r.getHlc() + 5))) {
                List<ByteString> chunks = tampered(good, c -> {
                    if (c.getChangesCount() == 0) {
                        return c;
                    }
                    try {
                        Wire.ChangeRecord last = Wire.ChangeRecord.parseFrom(c.getChanges(c.getChangesCount() - 1));
                        return c.addChanges(bad.apply(last.toBuilder()).build().toByteString())
                                .setTrailer(c.getTrailer().toBuilder().setChanges(c.getTrailer().getChanges() + 1));
                    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                        throw new AssertionError(e);
                    }
                });
                try (SnapshotImport imp = b.beginRefresh("a")) {
                    MalformedChangeException e = assertThrows(MalformedChangeException.class, () -> chunks.forEach(imp::accept));
                    assertTrue(e.getMessage().contains("does not cover or that does not follow"), e.getMessage());
                    IllegalStateException again = assertThrows(IllegalStateException.class, () -> imp.accept(good.get(0)));
                    assertTrue(again.getMessage().contains("failed earlier"), again.getMessage());
                    assertThrows(IllegalStateException.class, imp::complete);
                }
            }
        }
    }

    @Test
    void aSuppliersEstimatesPastWhatALongHoldsShowAsNoEstimateRatherThanBreakingStatus(@TempDir Path dir) throws Exception {
        try (TestNodes nodes = new TestNodes(dir)) {
            Engine a = nodes.open("a");
            Engine b = nodes.open("b");
            a.transaction().defineNamespace("people", Schema.builder().build()).commit();
            a.create("people", Attributes.ofText("name", "p"));
            // -1 is 2^64 - 1 on the wire (uint64): no estimate; two huge ones saturate instead of wrapping
            long[][] cases = {{-1, 5, 5}, {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE}, {-1, -1, 0}};
            for (long[] k : cases) {
                List<ByteString> chunks = tampered(snapshot(a), c -> c.hasHeader()
                        ? c.setHeader(c.getHeader().toBuilder().setEstimatedEntries(k[0]).setEstimatedChanges(k[1])) : c);
                try (SnapshotImport imp = b.beginRefresh("a")) {
                    imp.accept(chunks.get(0));
                    assertEquals(k[2], imp.estimatedRecords(), k[0] + " + " + k[1]);
                    // what an agreement's status builds from it
                    new Progress("records", imp.records(), imp.estimatedRecords(), 0, java.time.Duration.ZERO);
                }
            }
        }
    }
}
