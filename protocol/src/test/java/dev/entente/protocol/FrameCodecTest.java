package dev.entente.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The framing over bytes, with no transport: what the node's Netty handlers and the tools rely on. */
class FrameCodecTest {

    static SessionMessages.Frame hello() {
        return SessionMessages.Frame.newBuilder().setHello(SessionMessages.Hello.newBuilder()
                .setProtocolVersion(ProtocolVersion.CURRENT).setNodeName("a").setOriginId(ByteString.copyFrom(new byte[16]))).build();
    }

    static SessionMessages.Frame batch() {
        return SessionMessages.Frame.newBuilder().setBatch(SessionMessages.Batch.newBuilder()
                .addRecords(ByteString.copyFromUtf8("r1")).addRecords(ByteString.copyFrom(new byte[5000]))).build();
    }

    /** A stream that hands out at most a few bytes per read, as a network does. */
    static InputStream trickle(byte[] bytes) {
        return new FilterInputStream(new ByteArrayInputStream(bytes)) {
            private int next = 1;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                next = next % 7 + 1;
                return super.read(b, off, Math.min(len, next));
            }
        };
    }

    @Test
    void framesRoundTripThroughStreamsReadingAFewBytesAtATime() throws IOException {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        FrameCodec.write(wire, hello(), 1 << 20);
        FrameCodec.write(wire, batch(), 1 << 20);
        InputStream in = trickle(wire.toByteArray());
        assertEquals(hello(), FrameCodec.read(in, 1 << 20));
        assertEquals(batch(), FrameCodec.read(in, 1 << 20));
        assertNull(FrameCodec.read(in, 1 << 20), "the end of the stream between frames");
    }

    @Test
    void anEncodedFrameIsItsLengthThenItsMessage() {
        byte[] bytes = FrameCodec.encode(hello(), 1 << 20);
        ByteBuffer b = ByteBuffer.wrap(bytes);
        assertEquals(hello().getSerializedSize(), b.getInt());
        assertArrayEquals(hello().toByteArray(), java.util.Arrays.copyOfRange(bytes, 4, bytes.length));
        assertEquals(hello(), FrameCodec.parse(b));
    }

    @Test
    void anOversizedOrNegativeLengthIsRefusedFromTheLengthAlone() {
        FrameException big = assertThrows(FrameException.class, () -> FrameCodec.announcedLength(1 << 30, 1024));
        assertEquals(SessionMessages.Error.Code.FRAME_TOO_LARGE, big.code());
        assertTrue(big.getMessage().contains("1073741824") && big.getMessage().contains("1024"), big.getMessage());
        assertEquals(SessionMessages.Error.Code.FRAME_TOO_LARGE, assertThrows(FrameException.class, () -> FrameCodec.announcedLength(-1, 1024)).code());
        // A stream announcing 2^31-1 bytes is refused before any of it is read or allocated.
        InputStream huge = new ByteArrayInputStream(new byte[] {0x7F, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
        assertEquals(SessionMessages.Error.Code.FRAME_TOO_LARGE, assertThrows(FrameException.class, () -> FrameCodec.read(huge, 1024)).code());
    }

    @Test
    void garbageAnEmptyFrameAndTruncatedOnesAreMalformed() {
        assertEquals(SessionMessages.Error.Code.MALFORMED_FRAME,
                assertThrows(FrameException.class, () -> FrameCodec.parse(ByteBuffer.wrap(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}))).code());
        assertEquals(SessionMessages.Error.Code.MALFORMED_FRAME, assertThrows(FrameException.class, () -> FrameCodec.parse(ByteBuffer.allocate(0))).code());
        byte[] whole = FrameCodec.encode(batch(), 1 << 20);
        InputStream cut = new ByteArrayInputStream(java.util.Arrays.copyOf(whole, whole.length - 10));
        assertEquals(SessionMessages.Error.Code.MALFORMED_FRAME, assertThrows(FrameException.class, () -> FrameCodec.read(cut, 1 << 20)).code());
        InputStream cutInLength = new ByteArrayInputStream(new byte[] {0, 0});
        assertEquals(SessionMessages.Error.Code.MALFORMED_FRAME, assertThrows(FrameException.class, () -> FrameCodec.read(cutInLength, 1 << 20)).code());
    }

    @Test
    void anOversizedFrameIsNotSent() {
        assertEquals(SessionMessages.Error.Code.FRAME_TOO_LARGE, assertThrows(FrameException.class, () -> FrameCodec.encode(hello(), 10)).code());
    }
}
