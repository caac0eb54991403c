package dev.entente.testkit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code entente bench --quick --json} as a smoke test: every workload runs on real node processes
 * to the end and checks its result; timings are not asserted (this machine's speed is not the
 * test's business).
 */
class BenchQuickTest {

    @Test
    void everyWorkloadCompletesOnRealNodesWithEqualDigests(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = dev.entente.testkit.Main.execute(new String[] {"bench", "--quick", "--json", "--dir", dir.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, "bench --quick failed:\n" + text + "\n" + err.toString(StandardCharsets.UTF_8));
        List<String> lines = text.lines().toList();
        assertEquals(List.of("W1", "W2", "W3", "W4", "W5"), lines.stream().map(l -> json(l).get("workload").asText()).toList(), text);
        for (String line : lines) {
            JsonNode r = json(line);
            assertFalse(r.has("error"), line);
            assertTrue(r.get("checks").get("digests_equal").asBoolean(), line);
            assertTrue(r.get("limits").size() > 0 && r.get("ratios").size() > 0 && r.get("figures").size() > 0, line);
            assertTrue(r.get("machine").get("quick").asBoolean(), line);
            // every node of every workload reports its memory (this machine has /proc)
            assertTrue(r.get("memory").size() >= 2, line);
            r.get("memory").forEach(m -> assertTrue(m.get("peak_rss_mib").asDouble() > 0 && m.get("peak_heap_mib").asDouble() > 0
                    && m.get("rss_mib").asDouble() <= m.get("peak_rss_mib").asDouble(), line));
        }
        assertEquals(List.of("a", "b", "c"), iterator(json(lines.get(0)).get("memory").fieldNames()), "W1 reports each of its three nodes");
        assertTrue(json(lines.get(2)).get("checks").get("higher_cid_wins_everywhere").asBoolean());
        // W1's one-way catch-up ran, twice, and C ended with A's digest each time; C pulled every
        // entry in the catch-ups themselves (counted from its digest before), so the relay did cut
        // it off during the loads
        JsonNode w1 = json(lines.get(0));
        assertEquals(2_000, w1.get("checks").get("entries_on_c_after_catch_up").asLong(), lines.get(0));
        assertEquals(6_000, w1.get("checks").get("entries_on_c_after_warm_catch_up").asLong(), lines.get(0));
        assertEquals(2_000, w1.get("figures").get("catch_up_entries").asLong(), lines.get(0));
        assertEquals(4_000, w1.get("figures").get("warm_catch_up_entries").asLong(), lines.get(0));
        // every node was a process of its own, with its own store and log
        assertTrue(Files.exists(dir.resolve("W1").resolve("a").resolve("node.log")));
        assertTrue(Files.isDirectory(dir.resolve("W1").resolve("b").resolve("data")));
    }

    @Test
    void wrongUsageSaysWhatWasWrongAndHelpNamesEveryWorkload() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(2, dev.entente.testkit.Main.execute(new String[] {"bench", "--workload", "W9"}, o, e));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown workload 'W9'"), err.toString(StandardCharsets.UTF_8));
        assertEquals(2, dev.entente.testkit.Main.execute(new String[] {"bench", "--fast"}, o, e));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("Unknown option: '--fast'"), err.toString(StandardCharsets.UTF_8));
        assertEquals(0, dev.entente.testkit.Main.execute(new String[] {"bench", "--help"}, o, e));
        for (String w : List.of("W1", "W2", "W3", "W4", "W5")) {
            assertTrue(out.toString(StandardCharsets.UTF_8).contains("  " + w + "  "), w);
        }
    }

    private static List<String> iterator(java.util.Iterator<String> names) {
        List<String> out = new java.util.ArrayList<>();
        names.forEachRemaining(out::add);
        return out;
    }

    private static JsonNode json(String line) {
        try {
            return new ObjectMapper().readTree(line);
        } catch (Exception e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
    }
}
