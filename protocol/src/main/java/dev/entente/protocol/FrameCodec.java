package dev.entente.protocol;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * The session's framing over bytes: a 4-byte big-endian length, then one {@code Frame} message
 * of that many bytes. No transport here: the node's Netty handlers, tests and tools call it. A
 * length is checked against the maximum before anything is allocated for it, so a peer cannot
 * make a reader hold more than one maximum frame.
 */
public final class FrameCodec {
    /** Bytes of the length prefix. */
    public static final int LENGTH_BYTES = 4;

    private FrameCodec() {
    }

    /** The length a peer announced, if it is one this side accepts; otherwise {@code FRAME_TOO_LARGE}. */
    public static int announcedLength(int length, int maxFrameBytes) {
        if (length < 0 || length > maxFrameBytes) {
            throw new FrameException(SessionMessages.Error.Code.FRAME_TOO_LARGE, "a frame of " + Integer.toUnsignedString(length)
                    + " bytes was announced; the maximum is " + maxFrameBytes + " bytes");
        }
        return length;
    }

    /** One frame from its body (the bytes after the length); {@code MALFORMED_FRAME} if it is not one this version knows. */
    public static SessionMessages.Frame parse(ByteBuffer body) {
        int length = body.remaining();
        try {
            SessionMessages.Frame frame = SessionMessages.Frame.parseFrom(body);
            if (frame.getBodyCase() == SessionMessages.Frame.BodyCase.BODY_NOT_SET) {
                throw new FrameException(SessionMessages.Error.Code.MALFORMED_FRAME,
                        "a frame of " + length + " bytes holds no message this version knows (protocol version " + ProtocolVersion.CURRENT + ")");
            }
            return frame;
        } catch (InvalidProtocolBufferException e) {
            throw new FrameException(SessionMessages.Error.Code.MALFORMED_FRAME, "a frame of " + length + " bytes is not a valid message: " + e.getMessage(), e);
        }
    }

    /** The size of the frame's body, if this side may send it; {@code FRAME_TOO_LARGE} otherwise. */
    public static int sendableSize(SessionMessages.Frame frame, int maxFrameBytes) {
        int size = frame.getSerializedSize();
        if (size > maxFrameBytes) {
            throw new FrameException(SessionMessages.Error.Code.FRAME_TOO_LARGE,
                    "refusing to send a frame of " + size + " bytes; the maximum is " + maxFrameBytes + " bytes");
        }
        return size;
    }

    /** The frame with its length prefix. */
    public static byte[] encode(SessionMessages.Frame frame, int maxFrameBytes) {
        int size = sendableSize(frame, maxFrameBytes);
        ByteBuffer out = ByteBuffer.allocate(LENGTH_BYTES + size).putInt(size);
        frame.toByteString().copyTo(out);
        return out.array();
    }

    /** Writes one frame to a stream. */
    public static void write(OutputStream out, SessionMessages.Frame frame, int maxFrameBytes) throws IOException {
        out.write(encode(frame, maxFrameBytes));
    }

    /** Reads one frame from a stream, blocking; null at the end of the stream between frames. */
    public static SessionMessages.Frame read(InputStream in, int maxFrameBytes) throws IOException {
        DataInputStream data = new DataInputStream(in);
        int first = data.read();
        if (first < 0) {
            return null;
        }
        byte[] rest = new byte[LENGTH_BYTES - 1];
        try {
            data.readFully(rest);
        } catch (EOFException e) {
            throw new FrameException(SessionMessages.Error.Code.MALFORMED_FRAME, "the stream ended inside a frame's length", e);
        }
        int length = announcedLength(first << 24 | (rest[0] & 0xFF) << 16 | (rest[1] & 0xFF) << 8 | rest[2] & 0xFF, maxFrameBytes);
        byte[] body = new byte[length];
        try {
            data.readFully(body);
        } catch (EOFException e) {
            throw new FrameException(SessionMessages.Error.Code.MALFORMED_FRAME, "the stream ended inside a frame of " + length + " bytes", e);
        }
        return parse(ByteBuffer.wrap(body));
    }
}
