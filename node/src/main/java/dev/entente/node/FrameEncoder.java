package dev.entente.node;

import dev.entente.protocol.FrameCodec;
import dev.entente.protocol.SessionMessages;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Netty's side of {@link FrameCodec}: writes a {@code Frame} as its length and the message, straight into the channel's buffer. */
public final class FrameEncoder extends MessageToByteEncoder<SessionMessages.Frame> {
    private final int maxFrameBytes;

    public FrameEncoder(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, SessionMessages.Frame frame, ByteBuf out) {
        int size = FrameCodec.sendableSize(frame, maxFrameBytes);
        out.ensureWritable(FrameCodec.LENGTH_BYTES + size);
        out.writeInt(size);
        try {
            frame.writeTo(new io.netty.buffer.ByteBufOutputStream(out));
        } catch (IOException e) {
            throw new UncheckedIOException("encoding a frame", e);
        }
    }

    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, SessionMessages.Frame frame, boolean preferDirect) {
        int size = frame.getSerializedSize() + FrameCodec.LENGTH_BYTES;
        return preferDirect ? ctx.alloc().ioBuffer(size) : ctx.alloc().heapBuffer(size);
    }
}
