package dev.entente.engine;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.entente.engine.clock.Cid;
import java.nio.charset.StandardCharsets;

/**
 * Reads protobuf wire format from a range of an array, field by field, for the messages of the
 * apply path (change records and stored entry states), decoding straight into the engine's model
 * instead of through the generated message objects. One reader walks a whole record: it
 * {@linkplain #enter enters} a nested message and {@linkplain #leave leaves} it again, and can
 * {@linkplain #enterAt enter} one it passed over earlier, so that a message is read once a field it
 * depends on (a CID context) is known. A reader per nested message was about a tenth of the
 * bytes the apply path allocated.
 *
 * <p>Byte-string values are views of the input array, not copies ({@link #bytes}): the input must
 * not change afterwards. Every array read here is the engine's own: a record copied out of a
 * received batch, a value read from RocksDB.
 *
 * <p>Every length is checked against the range before it is used; malformed input throws
 * {@link MalformedChangeException}.
 */
final class WireReader {
    private final byte[] buf;
    private int pos;
    private int end;
    /** Names already read (attribute names repeat in every entry of a record); see {@link #name}. */
    private String[] names;
    private int nameCount;
    /** Start and length of the last length-delimited field read. */
    private int fieldStart;
    private int fieldLength;
    /** The latest CID {@linkplain #noteCid noted}. */
    private Cid latestCid;

    WireReader(byte[] buf, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > buf.length) {
            throw new MalformedChangeException("a message runs past the end of its input");
        }
        this.buf = buf;
        this.pos = offset;
        this.end = offset + length;
    }

    WireReader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    /**
     * Remembers a CID the input carries in full (not implied by a context), or a namespace's,
     * which protobuf's parser read. A change record's other CIDs are its own, so when none noted is
     * later than the record's, none at all is: the decoder checks that without walking the decoded
     * change again.
     */
    void noteCid(Cid cid) {
        if (latestCid == null || cid.compareTo(latestCid) > 0) {
            latestCid = cid;
        }
    }

    /** The latest CID {@linkplain #noteCid noted}; null when none was. */
    Cid latestCid() {
        return latestCid;
    }

    /** The next field's tag, or 0 at the end of the message. */
    int tag() {
        if (pos >= end) {
            return 0;
        }
        long tag = varint();
        if (tag >>> 3 == 0 || tag > Integer.MAX_VALUE) {
            throw new MalformedChangeException("a field has an invalid tag " + tag);
        }
        return (int) tag;
    }

    long varint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw new MalformedChangeException("a varint is cut off");
            }
            byte b = buf[pos++];
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw new MalformedChangeException("a varint is longer than 10 bytes");
    }

    long fixed64() {
        if (end - pos < 8) {
            throw new MalformedChangeException("a fixed64 field is cut off");
        }
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v |= (buf[pos++] & 0xFFL) << (8 * i);
        }
        return v;
    }

    /** Reads a length-delimited field's length and skips its content; see {@link #start}, {@link #length}. */
    void lengthDelimited() {
        long n = varint();
        if (n < 0 || n > end - pos) {
            throw new MalformedChangeException("a field of " + n + " bytes runs past the end of its message");
        }
        fieldStart = pos;
        fieldLength = (int) n;
        pos += (int) n;
    }

    int start() {
        return fieldStart;
    }

    int length() {
        return fieldLength;
    }

    /**
     * Reads a nested message's field and enters it: until {@link #leave}, this reader reads that
     * message and {@link #tag} returns 0 at its end.
     *
     * @return what {@link #leave} needs to go back to the enclosing message
     */
    long enter() {
        lengthDelimited();
        return enterAt(fieldStart, fieldLength);
    }

    /** Enters a message passed over earlier, at {@link #start} and {@link #length} as they were then. */
    long enterAt(int start, int length) {
        long outer = (long) pos << 32 | (end & 0xFFFF_FFFFL);
        pos = start;
        end = start + length;
        return outer;
    }

    /** Goes back to the enclosing message, where it was when the nested one was entered. */
    void leave(long outer) {
        pos = (int) (outer >>> 32);
        end = (int) outer;
    }

    /**
     * Message fields passed over, to be {@linkplain #enter entered} once what they depend on is
     * known: where each one starts and how long it is.
     */
    static final class Fields {
        private int[] spans;
        private int count;

        Fields(int expected) {
            spans = new int[2 * Math.max(1, expected)];
        }

        /** Reads past the length-delimited field {@code r} has reached, keeping where it is. */
        void add(WireReader r) {
            r.lengthDelimited();
            if (2 * count == spans.length) {
                spans = java.util.Arrays.copyOf(spans, 2 * spans.length);
            }
            spans[2 * count] = r.start();
            spans[2 * count + 1] = r.length();
            count++;
        }

        int count() {
            return count;
        }

        /** Enters field {@code i} in {@code r}; see {@link WireReader#leave}. */
        long enter(WireReader r, int i) {
            return r.enterAt(spans[2 * i], spans[2 * i + 1]);
        }
    }

    /** A bytes field, as a view of the input (see the class comment): values are most of a record. */
    ByteString bytes() {
        lengthDelimited();
        return fieldLength == 0 ? ByteString.EMPTY : UnsafeByteOperations.unsafeWrap(buf, fieldStart, fieldLength);
    }

    /**
     * A string field that names something, an attribute or a namespace: the same String for the
     * same name within one reader, as a record names the same few attributes in every entry.
     */
    String name() {
        lengthDelimited();
        for (int i = 0; i < nameCount; i++) {
            if (sameAscii(names[i])) {
                return names[i];
            }
        }
        String s = fieldString();
        if (names == null) {
            names = new String[8];
        }
        if (nameCount < names.length && s.length() == fieldLength) {
            names[nameCount++] = s;
        }
        return s;
    }

    /** Whether the field just read holds exactly {@code s}, an ASCII string. */
    private boolean sameAscii(String s) {
        if (s.length() != fieldLength) {
            return false;
        }
        for (int i = 0; i < fieldLength; i++) {
            if (buf[fieldStart + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    String string() {
        lengthDelimited();
        return fieldString();
    }

    private String fieldString() {
        boolean ascii = true;
        for (int i = fieldStart, e = fieldStart + fieldLength; i < e && ascii; i++) {
            ascii = buf[i] >= 0;
        }
        if (ascii) {
            return new String(buf, fieldStart, fieldLength, StandardCharsets.ISO_8859_1);
        }
        try {
            // Refuses what protobuf's own parser refuses in a string field, instead of replacing it.
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(buf, fieldStart, fieldLength)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new MalformedChangeException("a string field is not valid UTF-8");
        }
    }

    /**
     * Reads a field that is empty or holds 16 bytes, an origin id or an entry id, to be taken with
     * {@link #fieldLong}; {@code what} names it in the error.
     *
     * @return whether it holds 16 bytes (false: empty)
     */
    boolean sixteenBytes(String what) {
        lengthDelimited();
        if (fieldLength != 0 && fieldLength != 16) {
            throw new MalformedChangeException(what + " has 16 bytes, got " + fieldLength);
        }
        return fieldLength == 16;
    }

    /** Long {@code i} (big-endian) of the length-delimited field just read: an origin id or an entry id. */
    long fieldLong(int i) {
        if (fieldLength < 8 * (i + 1)) {
            throw new MalformedChangeException("a field of " + fieldLength + " bytes is too short");
        }
        long v = 0;
        for (int k = fieldStart + 8 * i, e = k + 8; k < e; k++) {
            v = (v << 8) | (buf[k] & 0xFFL);
        }
        return v;
    }

    /** Where this reader stands in the array. */
    int position() {
        return pos;
    }

    /** Where this reader's message ends in the array. */
    int limit() {
        return end;
    }

    /** Parses the rest of this message with a generated parser (for the rare messages read that way). */
    <T> T parse(com.google.protobuf.Parser<T> parser) {
        try {
            return parser.parseFrom(buf, pos, end - pos);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new MalformedChangeException(e.getMessage(), e);
        }
    }

    /** Skips a field this reader does not know, as protobuf parsers do, so newer writers can add fields. */
    void skip(int tag) {
        switch (tag & 7) {
            case WireWriter.VARINT -> varint();
            case WireWriter.FIXED64 -> {
                if (end - pos < 8) {
                    throw new MalformedChangeException("a fixed64 field is cut off");
                }
                pos += 8;
            }
            case WireWriter.LENGTH_DELIMITED -> lengthDelimited();
            case 5 -> {
                if (end - pos < 4) {
                    throw new MalformedChangeException("a fixed32 field is cut off");
                }
                pos += 4;
            }
            default -> throw new MalformedChangeException("field " + (tag >>> 3) + " has unsupported wire type " + (tag & 7));
        }
    }
}
