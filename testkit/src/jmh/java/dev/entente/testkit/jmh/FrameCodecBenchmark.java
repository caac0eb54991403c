package dev.entente.testkit.jmh;

import dev.entente.engine.ChangeBatch;
import dev.entente.engine.ChangeStream;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.Ruv;
import dev.entente.engine.Transaction;
import dev.entente.node.FrameDecoder;
import dev.entente.node.FrameEncoder;
import dev.entente.protocol.SessionMessages;
import dev.entente.testkit.IdentityEntries;
import dev.entente.testkit.TempDirs;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The session's frame codec on a batch frame of real change records (identity-like entries
 * written by an engine, {@code records} single-entry commits): length-prefix encoding of the
 * protobuf frame, and decoding with the size check.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FrameCodecBenchmark {
    @Param({"1", "1000"})
    public int records;

    private SessionMessages.Frame frame;
    private ByteBuf encoded;
    private EmbeddedChannel encoder;
    private EmbeddedChannel decoder;

    @Setup
    public void setup() throws Exception {
        Path dir = Files.createTempDirectory("entente-jmh-frames");
        try (Engine e = Engine.open(EngineOptions.builder(dir).build())) {
            e.transaction().defineNamespace(IdentityEntries.NAMESPACE, IdentityEntries.schema()).commit();
            Ruv start = e.ruv();
            for (int i = 0; i < records; i++) {
                Transaction tx = e.transaction();
                tx.create(IdentityEntries.NAMESPACE, e.newEntryId(), IdentityEntries.entry("jmh-", i));
                tx.commit();
            }
            try (ChangeStream s = e.supplyChanges(start, "jmh")) {
                ChangeBatch b = s.next(records, 16 << 20);
                frame = SessionMessages.Frame.newBuilder().setBatch(SessionMessages.Batch.newBuilder().addAllRecords(b.records())).build();
            }
        } finally {
            TempDirs.delete(dir);
        }
        encoder = new EmbeddedChannel(new FrameEncoder(16 << 20));
        decoder = new EmbeddedChannel(new FrameDecoder(16 << 20));
        encoded = encode();
    }

    @TearDown
    public void tearDown() {
        encoded.release();
        encoder.finishAndReleaseAll();
        decoder.finishAndReleaseAll();
    }

    private ByteBuf encode() {
        encoder.writeOutbound(frame);
        return encoder.readOutbound();
    }

    @Benchmark
    public int encodeBatch() {
        ByteBuf b = encode();
        int n = b.readableBytes();
        b.release();
        return n;
    }

    @Benchmark
    public SessionMessages.Frame decodeBatch() {
        decoder.writeInbound(encoded.retainedDuplicate());
        return decoder.readInbound();
    }
}
