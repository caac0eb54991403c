package dev.entente.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Writes a {@code Frame} as a 4-byte big-endian length and the message. */
public final class FrameEncoder extends MessageToByteEncoder<SessionMessages.Frame> {
    private final int maxFrameBytes;

    public FrameEncoder(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, SessionMessages.Frame frame, ByteBuf out) {
        int size = frame.getSerializedSize();
        if (size > maxFrameBytes) {
            throw new FrameException(SessionMessages.Error.Code.FRAME_TOO_LARGE,
                    "refusing to send a frame of " + size + " bytes; the maximum is " + maxFrameBytes + " bytes");
        }
        out.ensureWritable(4 + size);
        out.writeInt(size);
        try {
            frame.writeTo(new io.netty.buffer.ByteBufOutputStream(out));
        } catch (IOException e) {
            throw new UncheckedIOException("encoding a frame", e);
        }
    }

    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, SessionMessages.Frame frame, boolean preferDirect) {
        int size = frame.getSerializedSize() + 4;
        return preferDirect ? ctx.alloc().ioBuffer(size) : ctx.alloc().heapBuffer(size);
    }
}
