package dev.entente.testkit;

import com.google.protobuf.ByteString;
import dev.entente.engine.ChangeBatch;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * bench-engine's {@code apply-cold}: a consumer applying a supplier's changes in a JVM that has
 * never run the apply path, so that the time includes the JIT's warm-up. This is W1's cold
 * catch-up (an empty member's first catch-up) without the network, measured apart from it: on two
 * cores the JIT's work there is as large as the apply's own.
 *
 * <p>The input is made once, in the benchmark's JVM: a supplier that wrote identity-like entries in
 * transactions of 1,000 (as W1's load does), its changes cut into batches of 1 MiB (as a node asks
 * for them), and a consumer holding only the namespace. Each round copies the consumer and applies
 * the batches in a new JVM, each decoded on a second thread while the previous one commits, as a
 * node does; the new JVM checks the digest against the supplier's before it answers.
 */
final class ColdApply {
    /** The hidden testkit command a round runs in its JVM. */
    static final String COMMAND = "bench-engine-cold-apply";
    /** W1's size. */
    static final int ENTRIES = 100_000;
    private static final String ANSWER = "cold-apply ";

    private ColdApply() {
    }

    /** Makes the input for {@code entries} entries under {@code dir}. */
    static void prepare(Path dir, int entries) throws Exception {
        try (Engine supplier = Engine.open(EngineOptions.builder(dir.resolve("supplier")).build());
             Engine consumer = Engine.open(EngineOptions.builder(dir.resolve("consumer")).build())) {
            List<ChangeBatch> batches = EngineBench.supplyEntries(supplier, consumer, entries, 1000, "cold-", 1000, 1L << 20).batches();
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(dir.resolve("batches"))))) {
                for (ChangeBatch b : batches) {
                    out.writeInt(b.records().size());
                    for (ByteString r : b.records()) {
                        out.writeInt(r.size());
                        r.writeTo(out);
                    }
                }
                out.writeInt(-1);
            }
            Files.writeString(dir.resolve("digest"), supplier.digest().hex() + " " + entries);
        }
    }

    /** One round: a copy of the consumer applies the batches in a new JVM started with {@code options}. */
    static EngineBench.Sample measure(Path dir, List<String> options) throws Exception {
        Path round = dir.resolve("round");
        TempDirs.delete(round);
        TempDirs.copy(dir.resolve("consumer"), round);
        List<String> answer = ForkedJvm.output(options, COMMAND, List.of(dir.toString()));
        String line = answer.stream().filter(l -> l.startsWith(ANSWER)).findFirst()
                .orElseThrow(() -> new IllegalStateException("the cold-apply JVM gave no figure; it printed: " + answer));
        String[] w = line.substring(ANSWER.length()).split(" ");
        return new EngineBench.Sample(Double.parseDouble(w[0]), Double.parseDouble(w[1]), Double.parseDouble(w[2]));
    }

    /** The new JVM's side: applies the batches to {@code <dir>/round} and prints its sample. */
    static int child(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        List<ChangeBatch> batches = read(dir.resolve("batches"));
        String[] expected = Files.readString(dir.resolve("digest")).split(" ");
        int entries = Integer.parseInt(expected[1]);
        EngineBench.Timer timer = new EngineBench.Timer();
        try (Engine consumer = Engine.open(EngineOptions.builder(dir.resolve("round")).build())) {
            timer.start();
            EngineBench.applyPipelined(consumer, batches);
            timer.stop();
            if (!consumer.digest().hex().equals(expected[0])) {
                throw new IllegalStateException("the cold apply did not converge with its supplier: the figure would be meaningless");
            }
        }
        EngineBench.Sample s = timer.sample(entries);
        System.out.println(ANSWER + s.perSecond() + " " + s.cpuMicrosPerEntry() + " " + s.allocatedBytesPerEntry());
        return 0;
    }

    private static List<ChangeBatch> read(Path file) throws IOException {
        List<ChangeBatch> batches = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            for (int n; (n = in.readInt()) >= 0; ) {
                List<ByteString> records = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    byte[] r = new byte[in.readInt()];
                    in.readFully(r);
                    records.add(ByteString.copyFrom(r));
                }
                batches.add(ChangeBatch.of(records));
            }
        }
        return batches;
    }
}
