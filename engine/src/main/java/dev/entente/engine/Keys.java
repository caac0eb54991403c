package dev.entente.engine;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;

/**
 * RocksDB key layouts. Every multi-part key is length-prefixed or fixed-width so that prefixes are
 * unambiguous, and big-endian so that byte order is the logical order.
 */
final class Keys {
    private Keys() {
    }

    /** Column family {@code entries} and {@code flags}: [ns length][ns][16-byte id]. */
    static byte[] entry(String namespace, UUID id) {
        byte[] ns = namespace.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + ns.length + 16).put((byte) ns.length).put(ns)
                .putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).array();
    }

    static byte[] namespacePrefix(String namespace) {
        byte[] ns = namespace.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + ns.length).put((byte) ns.length).put(ns).array();
    }

    static String entryNamespace(byte[] key) {
        return new String(key, 1, key[0] & 0xFF, StandardCharsets.UTF_8);
    }

    static UUID entryId(byte[] key) {
        ByteBuffer b = ByteBuffer.wrap(key, key.length - 16, 16);
        return new UUID(b.getLong(), b.getLong());
    }

    /** Column family {@code changelog}: [16-byte origin][8-byte hlc]. */
    static byte[] change(OriginId origin, long hlc) {
        return ByteBuffer.allocate(24).putLong(origin.hi()).putLong(origin.lo()).putLong(hlc).array();
    }

    static OriginId changeOrigin(byte[] key) {
        ByteBuffer b = ByteBuffer.wrap(key);
        return new OriginId(b.getLong(), b.getLong());
    }

    static long changeHlc(byte[] key) {
        return ByteBuffer.wrap(key, 16, 8).getLong();
    }

    /** Column family {@code unique}: [ns length][ns][attribute length][attribute][value]. */
    static byte[] unique(String namespace, String attribute, ByteString value) {
        byte[] ns = namespace.getBytes(StandardCharsets.UTF_8);
        byte[] attr = attribute.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(2 + ns.length + attr.length + value.size());
        b.put((byte) ns.length).put(ns).put((byte) attr.length).put(attr);
        value.copyTo(b);
        return b.array();
    }

    /** Column family {@code reap}: [8-byte hlc][entry key], tombstones and discards by age. */
    static byte[] reap(long hlc, String namespace, UUID id) {
        byte[] entry = entry(namespace, id);
        return ByteBuffer.allocate(8 + entry.length).putLong(hlc).put(entry).array();
    }

    static long reapHlc(byte[] key) {
        return ByteBuffer.wrap(key, 0, 8).getLong();
    }

    static byte[] reapEntryKey(byte[] key) {
        return Arrays.copyOfRange(key, 8, key.length);
    }

    /** Column family {@code feed}: [8-byte sequence]. */
    static byte[] feed(long sequence) {
        return ByteBuffer.allocate(8).putLong(sequence).array();
    }

    static long feedSequence(byte[] key) {
        return ByteBuffer.wrap(key).getLong();
    }

    /** Column family {@code default}: node metadata by name. */
    static byte[] meta(String name) {
        return name.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] ruv(OriginId origin) {
        byte[] prefix = meta(RUV_PREFIX);
        return ByteBuffer.allocate(prefix.length + 16).put(prefix).putLong(origin.hi()).putLong(origin.lo()).array();
    }

    static final String RUV_PREFIX = "ruv/";
    static final String CURSOR_PREFIX = "cursor/";

    static OriginId ruvOrigin(byte[] key) {
        ByteBuffer b = ByteBuffer.wrap(key, key.length - 16, 16);
        return new OriginId(b.getLong(), b.getLong());
    }

    static boolean startsWith(byte[] key, byte[] prefix) {
        if (key.length < prefix.length) {
            return false;
        }
        return Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    static long bytesLong(byte[] b) {
        return ByteBuffer.wrap(b).getLong();
    }

    static byte[] uuidBytes(UUID id) {
        return ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).array();
    }

    static UUID uuid(byte[] b) {
        if (b.length != 16) {
            throw new MalformedChangeException("an entry id has 16 bytes, got " + b.length);
        }
        ByteBuffer buf = ByteBuffer.wrap(b);
        return new UUID(buf.getLong(), buf.getLong());
    }
}
