package dev.entente.node;

import com.google.protobuf.ByteString;
import dev.entente.engine.Ruv;
import dev.entente.protocol.ProtocolVersion;
import dev.entente.protocol.SessionMessages;
import dev.entente.protocol.SessionMessages.Frame;
import dev.entente.protocol.Wire;
import java.nio.ByteBuffer;
import java.util.UUID;

/** Building and reading the session's frames. */
final class Frames {
    private Frames() {
    }

    static Frame hello(String name, dev.entente.engine.OriginId origin, UUID domain, boolean joining) {
        return hello(name, origin, domain, joining, 0);
    }

    static Frame hello(String name, dev.entente.engine.OriginId origin, UUID domain, boolean joining, int mutualPort) {
        return Frame.newBuilder().setHello(SessionMessages.Hello.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT)
                .setNodeName(name).setOriginId(ByteString.copyFrom(origin.toBytes())).setDomainId(uuid(domain)).setJoining(joining)
                .setMutualPort(mutualPort)).build();
    }

    static Frame error(SessionMessages.Error.Code code, String message) {
        return Frame.newBuilder().setError(SessionMessages.Error.newBuilder().setCode(code).setMessage(message)).build();
    }

    static Frame credit(int batches) {
        return Frame.newBuilder().setCredit(SessionMessages.Credit.newBuilder().setBatches(batches)).build();
    }

    static Frame end(Ruv ruv) {
        return Frame.newBuilder().setEnd(SessionMessages.EndOfStream.newBuilder().setRuv(ruv(ruv))).build();
    }

    static Frame available() {
        return Frame.newBuilder().setAvailable(SessionMessages.ChangesAvailable.getDefaultInstance()).build();
    }

    static ByteString uuid(UUID id) {
        return ByteString.copyFrom(ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).array());
    }

    static UUID uuid(ByteString b) {
        if (b.size() != 16) {
            return null;
        }
        ByteBuffer buf = b.asReadOnlyByteBuffer();
        return new UUID(buf.getLong(), buf.getLong());
    }

    static Wire.Ruv ruv(Ruv ruv) {
        Wire.Ruv.Builder b = Wire.Ruv.newBuilder();
        ruv.origins().forEach((o, r) -> b.addEntries(Wire.RuvEntry.newBuilder().setOrigin(ByteString.copyFrom(o.toBytes()))
                .setMax(r.max()).setTrimmed(r.trimmed())));
        return b.build();
    }

    static Ruv ruv(Wire.Ruv m) {
        java.util.TreeMap<dev.entente.engine.OriginId, Ruv.Range> origins = new java.util.TreeMap<>();
        for (Wire.RuvEntry e : m.getEntriesList()) {
            if (e.getOrigin().size() != 16 || e.getTrimmed() > e.getMax()) {
                throw new dev.entente.protocol.FrameException(SessionMessages.Error.Code.MALFORMED_FRAME,
                        "a RUV entry is malformed (origin of " + e.getOrigin().size() + " bytes, trimmed " + e.getTrimmed() + ", max " + e.getMax() + ")");
            }
            origins.put(dev.entente.engine.OriginId.fromBytes(e.getOrigin().toByteArray()), new Ruv.Range(e.getMax(), e.getTrimmed()));
        }
        return new Ruv(origins);
    }
}
