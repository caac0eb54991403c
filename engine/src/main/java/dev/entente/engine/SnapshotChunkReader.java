package dev.entente.engine;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import dev.entente.protocol.Wire;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A snapshot chunk ({@code SnapshotChunk}) read field by field with protobuf's
 * {@link CodedInputStream}: the header, namespaces and trailer through the generated classes (a
 * few per refresh), the entries and change records straight into arrays. Parsing a chunk through
 * the generated classes built a message, a namespace string and three byte strings per entry, a
 * sixth of a refresh's import on the new node; here an entry's namespace is decoded once for a run
 * of entries of the same namespace. {@code SnapshotChunkReaderTest} checks it against the
 * generated parser.
 */
final class SnapshotChunkReader {
    /** One entry as the supplier stored it. */
    record StoredEntry(String namespace, byte[] id, byte[] state) {
    }

    Wire.SnapshotHeader header;
    final List<Wire.NamespaceState> namespaces = new ArrayList<>();
    final List<StoredEntry> entries = new ArrayList<>();
    final List<byte[]> changes = new ArrayList<>();
    Wire.SnapshotTrailer trailer;

    private byte[] lastNamespaceBytes;
    private String lastNamespace;

    static SnapshotChunkReader read(ByteString chunk) throws InvalidProtocolBufferException {
        SnapshotChunkReader r = new SnapshotChunkReader();
        try {
            r.readAll(chunk.newCodedInput());
        } catch (InvalidProtocolBufferException e) {
            throw e;
        } catch (java.io.IOException e) {
            throw new InvalidProtocolBufferException(e);
        }
        return r;
    }

    private static final int HEADER = 1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    private static final int NAMESPACES = 2 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    private static final int ENTRIES = 3 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    private static final int CHANGES = 4 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    private static final int TRAILER = 5 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;

    private void readAll(CodedInputStream in) throws java.io.IOException {
        for (int tag; (tag = in.readTag()) != 0; ) {
            switch (tag) {
                // A message field that occurs twice is merged, as protobuf's parser merges it.
                case HEADER -> header = header == null ? Wire.SnapshotHeader.parseFrom(in.readBytes())
                        : header.toBuilder().mergeFrom(in.readBytes()).build();
                case NAMESPACES -> namespaces.add(Wire.NamespaceState.parseFrom(in.readBytes()));
                case ENTRIES -> {
                    int limit = in.pushLimit(in.readRawVarint32());
                    entries.add(entry(in));
                    in.popLimit(limit);
                }
                case CHANGES -> changes.add(in.readByteArray());
                case TRAILER -> trailer = trailer == null ? Wire.SnapshotTrailer.parseFrom(in.readBytes())
                        : trailer.toBuilder().mergeFrom(in.readBytes()).build();
                default -> skip(in, tag);
            }
        }
    }

    private static final int NAMESPACE = 1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    private static final int ID = 2 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    private static final int STATE = 3 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    private static final byte[] NONE = new byte[0];

    private StoredEntry entry(CodedInputStream in) throws java.io.IOException {
        String namespace = "";
        byte[] id = NONE;
        byte[] state = NONE;
        for (int tag; (tag = in.readTag()) != 0; ) {
            switch (tag) {
                case NAMESPACE -> namespace = namespace(in.readByteArray());
                case ID -> id = in.readByteArray();
                case STATE -> state = in.readByteArray();
                default -> skip(in, tag);
            }
        }
        return new StoredEntry(namespace, id, state);
    }

    /** The namespace of these bytes: decoded once for a run of entries of one namespace. */
    private String namespace(byte[] bytes) throws InvalidProtocolBufferException {
        if (lastNamespaceBytes != null && Arrays.equals(bytes, lastNamespaceBytes)) {
            return lastNamespace;
        }
        if (!com.google.protobuf.UnsafeByteOperations.unsafeWrap(bytes).isValidUtf8()) {
            throw new InvalidProtocolBufferException("a namespace name is not UTF-8");
        }
        lastNamespaceBytes = bytes;
        lastNamespace = new String(bytes, StandardCharsets.UTF_8);
        return lastNamespace;
    }

    private static void skip(CodedInputStream in, int tag) throws java.io.IOException {
        if (!in.skipField(tag)) {
            throw new InvalidProtocolBufferException("an end-group tag where no group was opened");
        }
    }
}
