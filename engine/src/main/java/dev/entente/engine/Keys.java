package dev.entente.engine;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.OriginId;
import dev.entente.protocol.Ids;
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
        int n = nameLength(namespace);
        byte[] key = new byte[1 + n + 16];
        key[0] = (byte) n;
        putName(namespace, key, 1);
        putLong(key, 1 + n, id.getMostSignificantBits());
        putLong(key, 1 + n + 8, id.getLeastSignificantBits());
        return key;
    }

    /**
     * A name's length in UTF-8. Valid namespace and attribute names are ASCII (see {@link Names}),
     * and keys are built for every entry a commit touches, so such a name is measured and then
     * copied straight into the key ({@link #putName}), not encoded into a temporary array first.
     */
    private static int nameLength(String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            if (s.charAt(i) >= 0x80) {
                return s.getBytes(StandardCharsets.UTF_8).length;
            }
        }
        return n;
    }

    /** Writes a name in UTF-8 at {@code at}; see {@link #nameLength}. */
    private static void putName(String s, byte[] into, int at) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
                System.arraycopy(utf8, 0, into, at, utf8.length);
                return;
            }
            into[at + i] = (byte) c;
        }
    }

    /** Writes {@code v} big-endian at {@code at}. */
    static void putLong(byte[] into, int at, long v) {
        for (int i = 7; i >= 0; i--) {
            into[at + i] = (byte) v;
            v >>>= 8;
        }
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
        byte[] key = new byte[24];
        putLong(key, 0, origin.hi());
        putLong(key, 8, origin.lo());
        putLong(key, 16, hlc);
        return key;
    }

    static OriginId changeOrigin(byte[] key) {
        ByteBuffer b = ByteBuffer.wrap(key);
        return new OriginId(b.getLong(), b.getLong());
    }

    static long changeHlc(byte[] key) {
        return ByteBuffer.wrap(key, 16, 8).getLong();
    }

    /** Column family {@code namespaces}: the name in UTF-8. */
    static byte[] namespace(String name) {
        return name.getBytes(StandardCharsets.UTF_8);
    }

    /** Column family {@code unique}: [ns length][ns][attribute length][attribute][value]. */
    static byte[] unique(String namespace, String attribute, ByteString value) {
        int n = nameLength(namespace);
        int a = nameLength(attribute);
        byte[] key = new byte[2 + n + a + value.size()];
        key[0] = (byte) n;
        putName(namespace, key, 1);
        key[1 + n] = (byte) a;
        putName(attribute, key, 2 + n);
        value.copyTo(key, 2 + n + a);
        return key;
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
        return longBytes(sequence);
    }

    static long feedSequence(byte[] key) {
        return ByteBuffer.wrap(key).getLong();
    }

    /** Column family {@code default}: the node's metadata, each value under its name. */
    enum Meta {
        /** The store's format version. */
        FORMAT("format"),
        /** This node's origin id. */
        ORIGIN("origin"),
        /** The domain's id. */
        DOMAIN("domain"),
        /** The last HLC value, persisted with every commit so the clock never goes back across restarts. */
        HLC("hlc"),
        /** Why this node must be refreshed; absent while it need not. */
        REFRESH_REQUIRED("refresh.required"),
        /** Tombstones at or below this HLC were reaped: older changes must not be applied. */
        REAPED_HORIZON("reaped.horizon"),
        /** Feed events at or below this sequence were trimmed. */
        FEED_FLOOR("feed.floor"),
        /** When this node last completed an exchange with each peer. */
        CONTACTS("contacts"),
        /** The store check's last probe write. */
        WRITE_PROBE("write.probe");

        private final String name;

        Meta(String name) {
            this.name = name;
        }
    }

    static byte[] meta(Meta m) {
        return meta(m.name);
    }

    private static byte[] meta(String name) {
        return name.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] ruv(OriginId origin) {
        byte[] prefix = meta(RUV_PREFIX);
        return ByteBuffer.allocate(prefix.length + 16).put(prefix).putLong(origin.hi()).putLong(origin.lo()).array();
    }

    private static final String RUV_PREFIX = "ruv/";
    private static final String CURSOR_PREFIX = "cursor/";

    /** The prefix of every origin's RUV range. */
    static byte[] ruvPrefix() {
        return meta(RUV_PREFIX);
    }

    /** Where the change feed keeps a named reader's position. */
    static byte[] cursor(String name) {
        return meta(CURSOR_PREFIX + name);
    }

    /** The prefix of every named reader's position. */
    static byte[] cursorPrefix() {
        return meta(CURSOR_PREFIX);
    }

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
        byte[] b = new byte[8];
        putLong(b, 0, v);
        return b;
    }

    static long bytesLong(byte[] b) {
        return ByteBuffer.wrap(b).getLong();
    }

    /** An id read from the store or a peer's snapshot: 16 bytes, or the data is malformed. */
    static UUID uuid(byte[] b) {
        UUID id = Ids.of(b);
        if (id == null) {
            throw new MalformedChangeException("an id has 16 bytes, got " + (b == null ? "none" : b.length));
        }
        return id;
    }
}
