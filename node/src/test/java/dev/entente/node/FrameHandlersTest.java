package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.entente.protocol.FrameException;
import dev.entente.protocol.ProtocolVersion;
import dev.entente.protocol.SessionMessages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;

/** The Netty handlers over {@link dev.entente.protocol.FrameCodec}: split input, limits checked before buffering. */
class FrameHandlersTest {

    static SessionMessages.Frame hello() {
        return SessionMessages.Frame.newBuilder().setHello(SessionMessages.Hello.newBuilder()
                .setProtocolVersion(ProtocolVersion.CURRENT).setNodeName("a").setOriginId(ByteString.copyFrom(new byte[16]))).build();
    }

    @Test
    void framesRoundTripAcrossArbitrarySplits() {
        EmbeddedChannel out = new EmbeddedChannel(new FrameEncoder(1 << 20));
        SessionMessages.Frame batch = SessionMessages.Frame.newBuilder().setBatch(SessionMessages.Batch.newBuilder()
                .addRecords(ByteString.copyFromUtf8("r1")).addRecords(ByteString.copyFrom(new byte[5000]))).build();
        out.writeOutbound(hello(), batch);
        ByteBuf wire = Unpooled.buffer();
        for (ByteBuf b; (b = out.readOutbound()) != null; ) {
            wire.writeBytes(b);
            b.release();
        }
        EmbeddedChannel in = new EmbeddedChannel(new FrameDecoder(1 << 20));
        while (wire.isReadable()) {
            in.writeInbound(wire.readRetainedSlice(Math.min(7, wire.readableBytes())));
        }
        assertEquals(hello(), in.readInbound());
        assertEquals(batch, in.readInbound());
    }

    @Test
    void anOversizedFrameIsRefusedFromItsLengthAlone() {
        EmbeddedChannel in = new EmbeddedChannel(new FrameDecoder(1024));
        ByteBuf announce = Unpooled.buffer().writeInt(1 << 30);
        DecoderException e = assertThrows(DecoderException.class, () -> in.writeInbound(announce));
        FrameException f = (FrameException) e.getCause();
        assertEquals(SessionMessages.Error.Code.FRAME_TOO_LARGE, f.code());
        assertTrue(f.getMessage().contains("1073741824") && f.getMessage().contains("1024"), f.getMessage());
    }

    @Test
    void aNegativeLengthIsRefused() {
        EmbeddedChannel in = new EmbeddedChannel(new FrameDecoder(1024));
        DecoderException e = assertThrows(DecoderException.class, () -> in.writeInbound(Unpooled.buffer().writeInt(-1)));
        assertEquals(SessionMessages.Error.Code.FRAME_TOO_LARGE, ((FrameException) e.getCause()).code());
    }

    @Test
    void garbageIsAMalformedFrame() {
        EmbeddedChannel in = new EmbeddedChannel(new FrameDecoder(1024));
        ByteBuf garbage = Unpooled.buffer().writeInt(4).writeBytes(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
        DecoderException e = assertThrows(DecoderException.class, () -> in.writeInbound(garbage));
        assertEquals(SessionMessages.Error.Code.MALFORMED_FRAME, ((FrameException) e.getCause()).code());
    }

    @Test
    void anEmptyFrameIsMalformed() {
        EmbeddedChannel in = new EmbeddedChannel(new FrameDecoder(1024));
        DecoderException e = assertThrows(DecoderException.class, () -> in.writeInbound(Unpooled.buffer().writeInt(0)));
        assertEquals(SessionMessages.Error.Code.MALFORMED_FRAME, ((FrameException) e.getCause()).code());
    }

    @Test
    void anOversizedFrameIsNotSent() {
        EmbeddedChannel out = new EmbeddedChannel(new FrameEncoder(10));
        assertThrows(Exception.class, () -> out.writeOutbound(hello()));
    }
}
