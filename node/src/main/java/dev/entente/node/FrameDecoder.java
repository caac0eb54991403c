package dev.entente.node;

import dev.entente.protocol.FrameCodec;
import dev.entente.protocol.FrameException;
import dev.entente.protocol.SessionMessages;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Netty's side of {@link FrameCodec}: reads length-prefixed frames from the channel's bytes. The
 * length is checked before anything is buffered for it, so a peer cannot make this side hold
 * more than one maximum frame; and a frame begun must be complete within the partial-frame time,
 * so a peer cannot hold it for ever.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    private final int maxFrameBytes;
    private final long partialFrameNanos;
    /** When the frame now partly buffered began to arrive; meaningful while {@link #partial}. */
    private long partialSince;
    private boolean partial;
    private ScheduledFuture<?> partialCheck;

    /** A decoder whose partial frames never time out (for a trusted local peer in tests and tools). */
    public FrameDecoder(int maxFrameBytes) {
        this(maxFrameBytes, java.time.Duration.ofDays(365));
    }

    /** @param partialFrameTimeout a frame begun and not complete after this long ends the session */
    public FrameDecoder(int maxFrameBytes, java.time.Duration partialFrameTimeout) {
        this.maxFrameBytes = maxFrameBytes;
        this.partialFrameNanos = partialFrameTimeout.toNanos();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!decodeOne(in, out)) {
            if (in.isReadable() && !partial) {
                partial = true;
                partialSince = System.nanoTime();
                if (partialCheck == null) {
                    checkPartialIn(ctx, partialFrameNanos);
                }
            }
        } else {
            partial = false;
        }
    }

    private void checkPartialIn(ChannelHandlerContext ctx, long nanos) {
        partialCheck = ctx.executor().schedule(() -> {
            partialCheck = null;
            if (!partial || !ctx.channel().isActive()) {
                return;
            }
            long left = partialSince + partialFrameNanos - System.nanoTime();
            if (left > 0) {
                checkPartialIn(ctx, left);
                return;
            }
            partial = false;
            ctx.fireExceptionCaught(new FrameException(SessionMessages.Error.Code.MALFORMED_FRAME, "a frame begun "
                    + TimeUnit.NANOSECONDS.toMillis(partialFrameNanos) + " ms ago is still incomplete (" + actualReadableBytes()
                    + " bytes of it arrived): the peer stopped or sends too slowly"));
        }, nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (partialCheck != null) {
            partialCheck.cancel(false);
            partialCheck = null;
        }
    }

    /** Decodes one frame into {@code out}; false when the buffer holds no whole frame yet. */
    private boolean decodeOne(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < FrameCodec.LENGTH_BYTES) {
            return false;
        }
        int length;
        try {
            length = FrameCodec.announcedLength(in.getInt(in.readerIndex()), maxFrameBytes);
        } catch (FrameException e) {
            in.skipBytes(in.readableBytes());
            throw e;
        }
        if (in.readableBytes() < FrameCodec.LENGTH_BYTES + length) {
            return false;
        }
        in.skipBytes(FrameCodec.LENGTH_BYTES);
        out.add(FrameCodec.parse(in.readSlice(length).nioBuffer()));
        return true;
    }
}
