package dev.entente.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench-engine} as a smoke test: it forks a JVM with the heap options asked for, runs every
 * workload to the end (each checks its own result: apply must converge) and prints a figure for
 * each. Timings are not asserted.
 */
class EngineBenchTest {

    @Test
    void benchEngineRunsEveryWorkloadInAForkedJvmWithTheOptionsGiven(@TempDir Path dir) throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = Main.execute(new String[] {"bench-engine", "--entries", "2000", "--single-commits", "300", "--rounds", "1", "--json", "--dir", dir.toString(),
                    "--jvm", "-Xms256m -Xmx256m"}, System.out, System.err);
        } finally {
            System.setOut(saved);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text);
        List<JsonNode> figures = text.lines().map(EngineBenchTest::json).toList();
        assertEquals(List.of("raw", "single", "batched", "apply", "apply-pipelined", "apply-single", "refresh", "apply-cold"),
                figures.stream().map(f -> f.get("workload").asText()).toList(), text);
        for (JsonNode f : figures) {
            assertEquals("-Xms256m -Xmx256m", f.get("jvm_options").asText(), f.toString());
            assertTrue(f.get("entries_per_second").asDouble() > 0 && f.get("ratio_to_raw").asDouble() > 0, f.toString());
        }
        assertEquals(1.0, figures.get(0).get("ratio_to_raw").asDouble(), 1e-9);
    }

    @Test
    void anUnknownOptionIsRefusedWithTheUsageBeforeAnyJvmIsStarted() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(2, Main.execute(new String[] {"bench-engine", "--entires", "10"}, o, e));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("'--entires'"), err.toString(StandardCharsets.UTF_8));
        assertEquals(0, Main.execute(new String[] {"bench-engine", "--help"}, o, e));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("apply-cold"), out.toString(StandardCharsets.UTF_8));
    }

    private static JsonNode json(String line) {
        try {
            return new ObjectMapper().readTree(line);
        } catch (Exception e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
    }
}
