package dev.entente.engine;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * One attribute value: immutable bytes, UTF-8 for text. Values of an attribute are ordered by
 * their bytes, unsigned, as every node orders them.
 */
public final class Value implements Comparable<Value> {
    /** The engine's own form of the bytes; never changed, never handed out. */
    final ByteString bytes;

    private Value(ByteString bytes) {
        this.bytes = bytes;
    }

    /** A text value, as UTF-8. */
    public static Value of(String text) {
        return new Value(ByteString.copyFromUtf8(text));
    }

    /** A value holding a copy of {@code bytes}. */
    public static Value ofBytes(byte[] bytes) {
        return new Value(ByteString.copyFrom(bytes));
    }

    static Value wrap(ByteString bytes) {
        return new Value(bytes);
    }

    /** A copy of the bytes. */
    public byte[] bytes() {
        return bytes.toByteArray();
    }

    public int size() {
        return bytes.size();
    }

    /** Whether the bytes are valid UTF-8 text. */
    public boolean isText() {
        return bytes.isValidUtf8();
    }

    /** The bytes read as UTF-8 (invalid sequences replaced). */
    public String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Override
    public int compareTo(Value o) {
        return ByteString.unsignedLexicographicalComparator().compare(bytes, o.bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Value v && bytes.equals(v.bytes);
    }

    @Override
    public int hashCode() {
        return bytes.hashCode();
    }

    /** The text, or {@code 0x} and hex when the bytes are not UTF-8. */
    @Override
    public String toString() {
        return isText() ? text() : "0x" + HexFormat.of().formatHex(bytes.toByteArray());
    }
}
