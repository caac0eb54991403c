package dev.entente.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The testkit jar's command tree: the node's commands with the testkit's in the same tree, each with its help. */
class CommandTreeTest {
    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void oneTreeHoldsTheNodesCommandsAndTheTestkitsEachWithHelpAndExamples() {
        String help = run("--help").out();
        for (String c : List.of("init", "node", "status", "refresh", "backup", "bench", "bench-engine", "simulate", "chaos")) {
            assertTrue(help.contains("  " + c + " "), c + " in:\n" + help);
        }
        for (String c : List.of("bench", "bench-engine", "simulate", "chaos")) {
            Run r = run(c, "--help");
            assertEquals(0, r.code(), c);
            assertTrue(r.out().startsWith("usage: entente " + c) && r.out().contains("Example") && r.out().contains("Exit status:"), r.out());
        }
        Run status = run("status", "--help");
        assertTrue(status.out().startsWith("usage: entente status"), "the node's commands are the same here");
    }

    @Test
    void simulateReplaysAndExploresAndRefusesWhatItCannotRun() {
        Run explore = run("simulate", "--explore", "2", "--seed", "7");
        assertEquals(0, explore.code(), explore.out() + explore.err());
        assertTrue(explore.out().startsWith("exploring 2 scenarios from seed 7"), explore.out());
        String replay = explore.out().lines().filter(l -> l.startsWith("ok   ")).findFirst().orElseThrow().substring(5).replaceAll(":.*", "");
        Run again = run(("simulate " + replay).split(" "));
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().startsWith("ok   " + replay), again.out());
        for (String[] wrong : new String[][] {{"simulate"}, {"simulate", "seeds=1"}, {"simulate", "--explore", "x"},
            {"simulate", "--explore", "1", "seed=2"}, {"chaos", "--nodes", "2"}, {"chaos", "--seconds", "5", "--minutes", "1"},
            {"bench", "--workload", "W9"}, {"bench-engine", "--rounds", "0"}}) {
            Run r = run(wrong);
            assertEquals(2, r.code(), String.join(" ", wrong) + ": " + r.err());
            assertTrue(r.err().contains("--help' says more"), r.err());
        }
        assertTrue(run("bench", "--workload", "W9").err().contains("unknown workload 'W9'; choose among W1, W2, W3, W4, W5"));
    }
}
