package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksIterator;

/**
 * A JVM killed (SIGKILL) while committing reopens with every acknowledged commit and no partial
 * one, with its changelog and RUV in step.
 */
class CrashSafetyTest {

    @Test
    void aKilledWriterReopensWithEveryAcknowledgedCommitAndNoPartialOne(@TempDir Path dir) throws Exception {
        int next = 0;
        int acknowledged = -1;
        for (int round = 0; round < 3; round++) {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), CrashWriter.class.getName(), dir.toString(), Integer.toString(next))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                int acksThisRound = 0;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("ACK ")) {
                        acknowledged = Integer.parseInt(line.substring(4));
                        if (++acksThisRound == 300 + 97 * round) {
                            p.destroyForcibly();
                            break;
                        }
                    }
                }
            }
            p.waitFor();
            assertEquals(137, p.exitValue(), "killed by SIGKILL");
            next = verify(dir, acknowledged) + 1;
        }
    }

    /** Checks the reopened store; returns the highest transaction found. */
    private static int verify(Path dir, int acknowledged) {
        try (Engine e = Engine.open(EngineOptions.builder(dir).build())) {
            Map<Integer, Integer> perTxn = new HashMap<>();
            UUID after = null;
            do {
                Page<Entry> page = e.list("crash", after, 1000);
                for (Entry entry : page.items()) {
                    perTxn.merge(Integer.parseInt(entry.text("txn")), 1, Integer::sum);
                }
                after = page.nextAfter();
            } while (after != null);
            int highest = perTxn.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
            assertTrue(highest >= acknowledged, "acknowledged " + acknowledged + " but only " + highest + " survived");
            for (int n = 0; n <= highest; n++) {
                assertEquals(2, perTxn.getOrDefault(n, 0), "transaction " + n + " is whole");
            }
            long[] changelog = e.withStore(s -> {
                long count = 0;
                long last = 0;
                try (RocksIterator it = s.iterator(s.changelog)) {
                    for (it.seekToFirst(); it.isValid(); it.next()) {
                        count++;
                        last = Keys.changeHlc(it.key());
                    }
                }
                return new long[] {count, last};
            });
            assertEquals(highest + 2, changelog[0], "one record per transaction plus the namespace definition");
            assertEquals(e.ruv().max(e.originId()), changelog[1], "the RUV names the last record");
            assertTrue(e.lastHlc() >= changelog[1]);
            return highest;
        }
    }

    @Test
    void theClockIsPersistedSoARestartWithAnEarlierWallClockStillMovesForward(@TempDir Path dir) throws Exception {
        try (TestNodes nodes = new TestNodes(dir)) {
            Engine e = nodes.open("n");
            e.transaction().defineNamespace("ns", Schema.EMPTY).commit();
            UUID id = e.create("ns", Attributes.ofText("k", "v"));
            long last = e.get("ns", id).orElseThrow().created().hlc();
            nodes.close(e);
            nodes.now.addAndGet(-Duration.ofHours(1).toMillis());
            Engine again = nodes.open("n");
            UUID later = again.create("ns", Attributes.ofText("k", "w"));
            assertTrue(again.get("ns", later).orElseThrow().created().hlc() > last);
        }
    }
}
