package dev.entente.engine;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes protobuf wire format straight into one growing array, for the messages of the commit
 * path (change records and stored entry states), without building the generated message objects
 * first: on a batched commit that building and its second pass over the objects cost more than
 * the RocksDB write. The bytes are those the generated encoder would write (fields in number
 * order, proto3 defaults left out), which {@code WireCodecProperties} checks.
 *
 * <p>A nested message's length is not known until its content is written: one byte is reserved
 * for it and, when the content turns out to need a longer length prefix, the content is moved up.
 * Positions taken with {@link #mark} move with it.
 */
final class WireWriter {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;

    private byte[] buf;
    private int pos;
    private int[] marks = new int[8];
    private int markCount;

    WireWriter(int initialBytes) {
        buf = new byte[Math.max(1, initialBytes)];
    }

    int position() {
        return pos;
    }

    /** The bytes written; the writer is done with after this (its array may be the result). */
    byte[] toByteArray() {
        return pos == buf.length ? buf : Arrays.copyOf(buf, pos);
    }

    /** A copy of the bytes written; the writer can be {@linkplain #reset reused} after this. */
    byte[] copyOut() {
        return Arrays.copyOf(buf, pos);
    }

    /**
     * Empties the writer for the next message. A writer kept for reuse (the engine's, for the
     * change records of its commits) gives back an array grown past {@code keepBytes}, so that one
     * large transaction does not pin its size for the life of the engine.
     */
    void reset(int keepBytes) {
        pos = 0;
        markCount = 0;
        if (buf.length > keepBytes) {
            buf = new byte[keepBytes];
        }
    }

    /** Remembers the current position; read it back with {@link #markAt}, after any move. */
    int mark() {
        if (markCount == marks.length) {
            marks = Arrays.copyOf(marks, markCount * 2);
        }
        marks[markCount] = pos;
        return markCount++;
    }

    int markAt(int mark) {
        return marks[mark];
    }

    private void ensure(int more) {
        if (pos + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
        }
    }

    private void tag(int field, int wireType) {
        varint((field << 3) | wireType);
    }

    private void varint(long v) {
        ensure(10);
        while ((v & ~0x7FL) != 0) {
            buf[pos++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[pos++] = (byte) v;
    }

    static int varintSize(long v) {
        int n = 1;
        while ((v & ~0x7FL) != 0) {
            v >>>= 7;
            n++;
        }
        return n;
    }

    /** A fixed64 field; left out when 0, as proto3 leaves out defaults. */
    void fixed64(int field, long v) {
        if (v == 0) {
            return;
        }
        tag(field, FIXED64);
        ensure(8);
        for (int i = 0; i < 8; i++) {
            buf[pos++] = (byte) (v >>> (8 * i));
        }
    }

    /** An int64 or enum field; left out when 0. */
    void int64(int field, long v) {
        if (v != 0) {
            tag(field, VARINT);
            varint(v);
        }
    }

    /** A bool field; left out when false. */
    void bool(int field, boolean v) {
        if (v) {
            tag(field, VARINT);
            varint(1);
        }
    }

    /** A singular bytes field; left out when empty. */
    void bytes(int field, ByteString v) {
        if (!v.isEmpty()) {
            repeatedBytes(field, v);
        }
    }

    /** A singular bytes field; left out when empty. */
    void bytes(int field, byte[] v) {
        if (v.length > 0) {
            tag(field, LENGTH_DELIMITED);
            raw(v, 0, v.length);
        }
    }

    /** One element of a repeated bytes field: written even when empty. */
    void repeatedBytes(int field, ByteString v) {
        tag(field, LENGTH_DELIMITED);
        int n = v.size();
        varint(n);
        ensure(n);
        v.copyTo(buf, pos);
        pos += n;
    }

    /** A 16-byte bytes field (an origin id, an entry id) from its two big-endian halves. */
    void bytes16(int field, long hi, long lo) {
        tag(field, LENGTH_DELIMITED);
        ensure(17);
        buf[pos++] = 16;
        Keys.putLong(buf, pos, hi);
        Keys.putLong(buf, pos + 8, lo);
        pos += 16;
    }

    /** A singular string field; left out when empty. */
    void string(int field, String v) {
        if (!v.isEmpty()) {
            bytes(field, v.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Length-prefixed bytes without a tag (a nested message already encoded). */
    void raw(byte[] v, int offset, int length) {
        varint(length);
        ensure(length);
        System.arraycopy(v, offset, buf, pos, length);
        pos += length;
    }

    /** Bytes as they are: fields already encoded. */
    void append(byte[] v, int offset, int length) {
        ensure(length);
        System.arraycopy(v, offset, buf, pos, length);
        pos += length;
    }

    /** A nested message already encoded. */
    void message(int field, byte[] encoded) {
        tag(field, LENGTH_DELIMITED);
        raw(encoded, 0, encoded.length);
    }

    /** Starts a nested message; returns where its content starts, for {@link #endMessage}. */
    int beginMessage(int field) {
        tag(field, LENGTH_DELIMITED);
        ensure(1);
        pos++;
        return pos;
    }

    /** Ends the nested message whose content started at {@code start}, writing its length before it. */
    void endMessage(int start) {
        int length = pos - start;
        int size = varintSize(length);
        if (size > 1) {
            int shift = size - 1;
            ensure(shift);
            System.arraycopy(buf, start, buf, start + shift, length);
            pos += shift;
            for (int i = markCount - 1; i >= 0 && marks[i] >= start; i--) {
                marks[i] += shift;
            }
        }
        int p = start - 1;
        long v = length;
        while ((v & ~0x7FL) != 0) {
            buf[p++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[p] = (byte) v;
    }
}
