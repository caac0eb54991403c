package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.engine.Attributes;
import dev.entente.engine.Engine;
import dev.entente.engine.FeedEvent;
import dev.entente.engine.Transaction;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A consumer process killed (SIGKILL) in the middle of a stream of batches catches up on restart, nothing lost or applied twice. */
class CrashRecoveryTest {

    @Test
    void aConsumerKilledMidStreamCatchesUpWithNothingLostOrAppliedTwice(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            Engine a = c.founder("a");
            c.identity("b");
            ReplicationNode supplier = c.start("a", List.of("b"), List.of());
            Path certFile = dir.resolve("a.pem");
            Files.writeString(certFile, c.identity("a").certificatePem());
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                    ConsumerProcess.class.getName(), dir.resolve("b").toString(), Integer.toString(supplier.address().getPort()), certFile.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            // the child joins as a new node: mark it so before it opens the store
            long killedAt;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                 Writer in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
                assertEquals("JOINED", out.readLine());
                int commits = 0;
                for (int i = 0; i < 20_000; i += 20) {
                    Transaction tx = a.transaction();
                    for (int j = i; j < i + 20; j++) {
                        tx.create("people", a.newEntryId(), Attributes.ofText("name", "u" + j, "mail", "u" + j + "@example.org"));
                    }
                    tx.commit();
                    commits++;
                }
                assertEquals(1000, commits);
                in.write("GO\n");
                in.flush();
                String line;
                killedAt = -1;
                while ((line = out.readLine()) != null) {
                    long applied = Long.parseLong(line.substring("APPLIED ".length()));
                    if (applied >= 100) {
                        p.destroyForcibly();
                        killedAt = applied;
                        break;
                    }
                }
            }
            p.waitFor();
            assertEquals(137, p.exitValue());
            assertTrue(killedAt >= 100 && killedAt < 1000, "killed in the middle of the stream, after " + killedAt + " changes");

            Engine b = c.engine("b");
            assertTrue(b.checkIntegrity().isEmpty(), b.checkIntegrity().toString());
            c.ports.put("a", supplier.address().getPort());
            c.start("b", List.of(), List.of("a"));
            c.awaitConvergence(Duration.ofSeconds(60));
            assertEquals(20_000, b.digest().entries());
            assertTrue(b.checkIntegrity().isEmpty());
            long remote = 0;
            long after = 0;
            while (true) {
                List<FeedEvent> events = b.feed().read(after, 1000);
                if (events.isEmpty()) {
                    break;
                }
                for (FeedEvent e : events) {
                    if (!e.local() && !e.reset() && e.cid().origin().equals(a.originId()) && !e.changes().isEmpty()
                            && e.changes().get(0).kind() == FeedEvent.Kind.CREATED) {
                        remote++;
                    }
                    after = e.sequence();
                }
            }
            assertEquals(1000, remote, "each of a's 1000 transactions was applied exactly once on b");
        }
    }
}
