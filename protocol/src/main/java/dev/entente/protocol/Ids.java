package dev.entente.protocol;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.util.UUID;

/**
 * Ids (entry ids, domain ids) as the wire and the store carry them: 16 bytes, the most
 * significant half first, so that byte order is the UUID's order.
 */
public final class Ids {
    private Ids() {
    }

    public static byte[] bytes(UUID id) {
        return ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).array();
    }

    public static ByteString byteString(UUID id) {
        return ByteString.copyFrom(bytes(id));
    }

    /** The id in {@code b}, or null when it does not hold exactly 16 bytes. */
    public static UUID of(byte[] b) {
        if (b == null || b.length != 16) {
            return null;
        }
        ByteBuffer buf = ByteBuffer.wrap(b);
        return new UUID(buf.getLong(), buf.getLong());
    }

    /** The id in {@code b}, or null when it does not hold exactly 16 bytes. */
    public static UUID of(ByteString b) {
        if (b.size() != 16) {
            return null;
        }
        ByteBuffer buf = b.asReadOnlyByteBuffer();
        return new UUID(buf.getLong(), buf.getLong());
    }
}
