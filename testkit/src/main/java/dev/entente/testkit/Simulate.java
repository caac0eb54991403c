package dev.entente.testkit;

import dev.entente.testkit.sim.InvariantViolation;
import dev.entente.testkit.sim.Scenario;
import dev.entente.testkit.sim.Simulation;
import dev.entente.testkit.sim.Topology;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;

/** {@code simulate}: replays a scenario from its spec, or explores random scenarios. */
final class Simulate {
    private Simulate() {
    }

    static int run(String[] args) {
        if (args.length == 0 || args[0].equals("--help")) {
            System.err.println("""
                    usage: simulate seed=S nodes=N topology=chain|star|ring|full-mesh hub=true|false writes=W faults=drop,duplicate,reorder,cut,partition,crash,clock_skew,trim|none
                           simulate --explore COUNT [--seed S]
                      The first form replays one scenario exactly (a failing property prints this line).
                      The second runs COUNT random scenarios and stops at the first violation.""");
            return args.length == 0 ? 2 : 0;
        }
        if (args[0].equals("--explore")) {
            int count = Integer.parseInt(args[1]);
            long seed = args.length > 3 && args[2].equals("--seed") ? Long.parseLong(args[3]) : System.nanoTime();
            Random random = new Random(seed);
            System.out.println("exploring " + count + " scenarios from seed " + seed);
            for (int i = 0; i < count; i++) {
                if (!runOne(randomScenario(random))) {
                    return 1;
                }
            }
            return 0;
        }
        return runOne(Scenario.parse(String.join(" ", args))) ? 0 : 1;
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

    private static boolean runOne(Scenario s) {
        long start = System.nanoTime();
        try {
            Simulation.Result r = Simulation.run(s);
            System.out.printf("ok   %s: %d events, %d acknowledged, %d lost to refreshes, %d refreshes, %d dropped, %d duplicated, %s (%d ms)%n",
                    s.spec(), r.events(), r.acknowledged(), r.lost(), r.refreshes(), r.dropped(), r.duplicated(), r.digest(),
                    (System.nanoTime() - start) / 1_000_000);
            return true;
        } catch (InvariantViolation v) {
            System.out.println("FAIL " + v.getMessage());
            return false;
        }
    }
}
