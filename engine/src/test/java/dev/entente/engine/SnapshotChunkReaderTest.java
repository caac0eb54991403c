package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.entente.protocol.Wire;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hand-read snapshot chunk against protobuf's generated parser, on a real supplier's chunks and on odd ones. */
class SnapshotChunkReaderTest {

    @Test
    void everyChunkOfARealSnapshotReadsAsTheGeneratedParserReadsIt(@TempDir Path dir) throws Exception {
        try (TestNodes nodes = new TestNodes(dir)) {
            Engine a = nodes.open("a");
            a.transaction().defineNamespace("people", Schema.builder().unique("name").build()).commit();
            a.transaction().defineNamespace("groups", Schema.builder().build()).commit();
            for (int i = 0; i < 300; i++) {
                a.create(i % 3 == 0 ? "groups" : "people", Attributes.ofText("name", "n" + i, "mail", "m" + i + "@example.org"));
            }
            List<ByteString> chunks = new ArrayList<>();
            try (SnapshotExport x = a.exportSnapshot("b")) {
                for (ByteString c; (c = x.nextChunk(2048)) != null; ) {
                    chunks.add(c);
                }
            }
            assertTrue(chunks.size() > 5, "several chunks: " + chunks.size());
            int entries = 0;
            for (ByteString c : chunks) {
                Wire.SnapshotChunk g = Wire.SnapshotChunk.parseFrom(c);
                SnapshotChunkReader r = SnapshotChunkReader.read(c);
                assertSame(g, r);
                entries += r.entries.size();
            }
            assertEquals(300, entries);
        }
    }

    @Test
    void repeatedFieldsUnknownFieldsAndFieldsOutOfOrderReadAsTheGeneratedParserReadsThem() throws Exception {
        Wire.StoredEntry e1 = Wire.StoredEntry.newBuilder().setNamespace("people").setId(ByteString.copyFrom(new byte[16])).setState(ByteString.copyFromUtf8("s1")).build();
        Wire.StoredEntry e2 = Wire.StoredEntry.newBuilder().setNamespace("groups").setId(ByteString.copyFrom(new byte[16])).build();
        Wire.SnapshotChunk.Builder b = Wire.SnapshotChunk.newBuilder().addEntries(e1).addEntries(e2).addEntries(e1).addChanges(ByteString.copyFromUtf8("r"))
                .setTrailer(Wire.SnapshotTrailer.newBuilder().setEntries(3))
                .setHeader(Wire.SnapshotHeader.newBuilder().setFormat(1).setMaxHlc(7));
        ByteString bytes = b.build().toByteString()
                // an unknown field (number 9, varint), then the header again: protobuf merges a repeated message field
                .concat(ByteString.copyFrom(new byte[] {9 << 3, 5}))
                .concat(Wire.SnapshotChunk.newBuilder().setHeader(Wire.SnapshotHeader.newBuilder().setReapedHorizon(3)).build().toByteString());
        assertSame(Wire.SnapshotChunk.parseFrom(bytes), SnapshotChunkReader.read(bytes));
    }

    @Test
    void aTruncatedChunkOrABadNamespaceIsRefusedAsTheGeneratedParserRefusesIt() {
        Wire.StoredEntry e = Wire.StoredEntry.newBuilder().setNamespace("people").setId(ByteString.copyFrom(new byte[16])).build();
        ByteString whole = Wire.SnapshotChunk.newBuilder().addEntries(e).build().toByteString();
        ByteString cut = whole.substring(0, whole.size() - 3);
        assertThrows(InvalidProtocolBufferException.class, () -> Wire.SnapshotChunk.parseFrom(cut));
        assertThrows(InvalidProtocolBufferException.class, () -> SnapshotChunkReader.read(cut));
        byte[] bad = whole.toByteArray();
        bad[4] = (byte) 0xff; // inside "people": no longer UTF-8
        assertThrows(InvalidProtocolBufferException.class, () -> Wire.SnapshotChunk.parseFrom(bad));
        assertThrows(InvalidProtocolBufferException.class, () -> SnapshotChunkReader.read(ByteString.copyFrom(bad)));
    }

    private static void assertSame(Wire.SnapshotChunk g, SnapshotChunkReader r) {
        assertEquals(g.hasHeader() ? g.getHeader() : null, r.header);
        assertEquals(g.getNamespacesList(), r.namespaces);
        assertEquals(g.getEntriesCount(), r.entries.size());
        for (int i = 0; i < g.getEntriesCount(); i++) {
            Wire.StoredEntry ge = g.getEntries(i);
            SnapshotChunkReader.StoredEntry re = r.entries.get(i);
            assertEquals(ge.getNamespace(), re.namespace());
            assertArrayEquals(ge.getId().toByteArray(), re.id());
            assertArrayEquals(ge.getState().toByteArray(), re.state());
        }
        assertEquals(g.getChangesCount(), r.changes.size());
        for (int i = 0; i < g.getChangesCount(); i++) {
            assertArrayEquals(g.getChanges(i).toByteArray(), r.changes.get(i));
        }
        assertEquals(g.hasTrailer() ? g.getTrailer() : null, r.trailer);
    }
}
