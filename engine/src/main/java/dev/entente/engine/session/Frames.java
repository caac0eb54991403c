package dev.entente.engine.session;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.Ruv;
import dev.entente.protocol.FrameException;
import dev.entente.protocol.Ids;
import dev.entente.protocol.ProtocolVersion;
import dev.entente.protocol.SessionMessages;
import dev.entente.protocol.SessionMessages.Frame;
import dev.entente.protocol.Wire;
import java.util.UUID;

/** Building and reading the session's frames. */
public final class Frames {
    private Frames() {
    }

    public static Frame hello(String name, OriginId origin, UUID domain, boolean joining) {
        return hello(name, origin, domain, joining, 0);
    }

    public static Frame hello(String name, OriginId origin, UUID domain, boolean joining, int mutualPort) {
        return Frame.newBuilder().setHello(SessionMessages.Hello.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT)
                .setNodeName(name).setOriginId(ByteString.copyFrom(origin.toBytes())).setDomainId(Ids.byteString(domain)).setJoining(joining)
                .setMutualPort(mutualPort)).build();
    }

    public static Frame error(SessionMessages.Error.Code code, String message) {
        return Frame.newBuilder().setError(SessionMessages.Error.newBuilder().setCode(code).setMessage(message)).build();
    }

    public static Frame credit(int batches) {
        return Frame.newBuilder().setCredit(SessionMessages.Credit.newBuilder().setBatches(batches)).build();
    }

    public static Frame end(Ruv ruv) {
        return Frame.newBuilder().setEnd(SessionMessages.EndOfStream.newBuilder().setRuv(ruv.toWire())).build();
    }

    public static Frame available() {
        return Frame.newBuilder().setAvailable(SessionMessages.ChangesAvailable.getDefaultInstance()).build();
    }

    public static Frame pull(Ruv ruv, SessionOptions options) {
        return pull(ruv, options, java.util.OptionalLong.empty());
    }

    /** @param otherContactAge how long ago the consumer last completed an exchange with another peer; empty when never */
    public static Frame pull(Ruv ruv, SessionOptions options, java.util.OptionalLong otherContactAge) {
        SessionMessages.PullRequest.Builder b = SessionMessages.PullRequest.newBuilder().setRuv(ruv.toWire()).setCredit(options.credit())
                .setMaxBatchRecords(options.batchRecords()).setMaxBatchBytes(options.batchBytes()).setFollow(true);
        otherContactAge.ifPresent(b::setOtherContactAgeMs);
        return Frame.newBuilder().setPull(b).build();
    }

    public static Frame refresh(SessionOptions options) {
        return Frame.newBuilder().setRefresh(SessionMessages.RefreshRequest.newBuilder().setCredit(options.credit())
                .setMaxChunkBytes(options.batchBytes())).build();
    }

    /** A peer's RUV. @throws FrameException a RUV entry is malformed */
    public static Ruv ruv(Wire.Ruv m) {
        try {
            return Ruv.fromWire(m);
        } catch (dev.entente.engine.MalformedChangeException e) {
            throw new FrameException(SessionMessages.Error.Code.MALFORMED_FRAME, e.getMessage(), e);
        }
    }
}
