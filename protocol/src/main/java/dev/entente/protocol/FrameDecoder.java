package dev.entente.protocol;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Reads length-prefixed frames: a 4-byte big-endian length, then one {@code Frame} message of
 * that many bytes. The length is checked against the maximum before anything is allocated or
 * buffered for it, so a peer cannot make this side hold more than one maximum frame.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    private final int maxFrameBytes;

    public FrameDecoder(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 4) {
            return;
        }
        int length = in.getInt(in.readerIndex());
        if (length < 0 || length > maxFrameBytes) {
            in.skipBytes(in.readableBytes());
            throw new FrameException(SessionMessages.Error.Code.FRAME_TOO_LARGE, "a frame of " + Integer.toUnsignedString(length)
                    + " bytes was announced; the maximum is " + maxFrameBytes + " bytes");
        }
        if (in.readableBytes() < 4 + length) {
            return;
        }
        in.skipBytes(4);
        ByteBuf body = in.readSlice(length);
        try {
            SessionMessages.Frame frame = SessionMessages.Frame.parseFrom(body.nioBuffer());
            if (frame.getBodyCase() == SessionMessages.Frame.BodyCase.BODY_NOT_SET) {
                throw new FrameException(SessionMessages.Error.Code.MALFORMED_FRAME,
                        "a frame of " + length + " bytes holds no message this version knows (protocol version " + ProtocolVersion.CURRENT + ")");
            }
            out.add(frame);
        } catch (InvalidProtocolBufferException e) {
            throw new FrameException(SessionMessages.Error.Code.MALFORMED_FRAME, "a frame of " + length + " bytes is not a valid message: " + e.getMessage(), e);
        }
    }
}
