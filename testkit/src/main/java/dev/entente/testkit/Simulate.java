package dev.entente.testkit;

import dev.entente.testkit.sim.InvariantViolation;
import dev.entente.testkit.sim.Scenario;
import dev.entente.testkit.sim.Simulation;
import dev.entente.testkit.sim.Topology;
import java.io.PrintStream;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;

/** {@code entente simulate}: replays a scenario from its spec, or explores random scenarios. */
final class Simulate {
    private Simulate() {
    }

    /** Replays the scenario {@code spec} describes; answers the exit code. */
    static int replay(String spec, PrintStream out) {
        return runOne(Scenario.parse(spec), out) ? 0 : 1;
    }

    /** Runs {@code count} random scenarios from {@code seed}, stopping at the first violation; answers the exit code. */
    static int explore(int count, long seed, PrintStream out) {
        Random random = new Random(seed);
        out.println("exploring " + count + " scenarios from seed " + seed);
        for (int i = 0; i < count; i++) {
            if (!runOne(randomScenario(random), out)) {
                return 1;
            }
        }
        return 0;
    }

    static Scenario randomScenario(Random random) {
        Set<Scenario.Fault> faults = EnumSet.noneOf(Scenario.Fault.class);
        for (Scenario.Fault f : Scenario.Fault.values()) {
            if (random.nextBoolean()) {
                faults.add(f);
            }
        }
        return new Scenario(random.nextLong(), 2 + random.nextInt(6), Topology.values()[random.nextInt(4)],
                random.nextInt(4) == 0, 5 + random.nextInt(40), faults);
    }

    private static boolean runOne(Scenario s, PrintStream out) {
        long start = System.nanoTime();
        try {
            Simulation.Result r = Simulation.run(s);
            out.printf("ok   %s: %d events, %d acknowledged, %d lost to refreshes, %d refreshes, %d dropped, %d duplicated, %s (%d ms)%n",
                    s.spec(), r.events(), r.acknowledged(), r.lost(), r.refreshes(), r.dropped(), r.duplicated(), r.digest(),
                    (System.nanoTime() - start) / 1_000_000);
            return true;
        } catch (InvariantViolation v) {
            out.println("FAIL " + v.getMessage());
            return false;
        }
    }
}
