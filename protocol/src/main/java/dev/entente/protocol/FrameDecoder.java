package dev.entente.protocol;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Reads length-prefixed frames: a 4-byte big-endian length, then one {@code Frame} message of
 * that many bytes. The length is checked against the maximum before anything is allocated or
 * buffered for it, so a peer cannot make this side hold more than one maximum frame; and a frame
 * begun must be complete within the partial-frame time, so a peer cannot hold it for ever.
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
        if (in.readableBytes() < 4) {
            return false;
        }
        int length = in.getInt(in.readerIndex());
        if (length < 0 || length > maxFrameBytes) {
            in.skipBytes(in.readableBytes());
            throw new FrameException(SessionMessages.Error.Code.FRAME_TOO_LARGE, "a frame of " + Integer.toUnsignedString(length)
                    + " bytes was announced; the maximum is " + maxFrameBytes + " bytes");
        }
        if (in.readableBytes() < 4 + length) {
            return false;
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
            return true;
        } catch (InvalidProtocolBufferException e) {
            throw new FrameException(SessionMessages.Error.Code.MALFORMED_FRAME, "a frame of " + length + " bytes is not a valid message: " + e.getMessage(), e);
        }
    }
}
