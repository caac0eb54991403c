package dev.entente.testkit.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.testkit.sim.Scenario.Fault;
import java.util.EnumSet;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The convergence properties. Every simulated run checks every invariant of {@link Invariant}
 * (after each event where it is one, at the end otherwise) and throws at the first violation, so
 * each property below checks all of them; what sets the properties apart is what they generate:
 * each draws the scenarios that stress its own part of the contract. Topologies of 2 to 7 nodes
 * (chain, star, ring, full mesh; with or without a hub that takes no local writes), real engines
 * on RocksDB, and the session classes nodes run. Failures print the scenario and the command
 * that replays it; jqwik shrinks towards fewer nodes, writes and faults.
 *
 * <p>Tries per property: 175 by default ({@code junit-platform.properties}), 1,750 with
 * {@code mvn -Pexhaustive verify}.
 */
class ConvergenceProperties {

    private static Arbitrary<Scenario> scenarios(Set<Fault> always, Arbitrary<Integer> writes) {
        Arbitrary<Set<Fault>> faults = Arbitraries.subsetOf(Fault.values()).map(s -> {
            EnumSet<Fault> f = EnumSet.copyOf(always.isEmpty() ? EnumSet.noneOf(Fault.class) : always);
            f.addAll(s);
            return f;
        });
        return Combinators.combine(Arbitraries.longs(), Arbitraries.integers().between(2, 7), Arbitraries.of(Topology.class),
                Arbitraries.of(false, false, false, true), writes, faults).as(Scenario::new);
    }

    @Provide
    Arbitrary<Scenario> anything() {
        return scenarios(Set.of(), Arbitraries.integers().between(0, 40));
    }

    @Provide
    Arbitrary<Scenario> splitsAndTrimming() {
        return scenarios(EnumSet.of(Fault.PARTITION, Fault.TRIM), Arbitraries.integers().between(10, 40));
    }

    @Provide
    Arbitrary<Scenario> splitsLongerThanTheWindow() {
        return scenarios(EnumSet.of(Fault.PARTITION, Fault.LONG_SPLIT, Fault.TRIM), Arbitraries.integers().between(10, 40));
    }

    @Provide
    Arbitrary<Scenario> lossyNetworks() {
        return scenarios(EnumSet.of(Fault.DROP, Fault.DUPLICATE, Fault.REORDER, Fault.CUT), Arbitraries.integers().between(10, 40));
    }

    @Provide
    Arbitrary<Scenario> crashesAndSkewedClocks() {
        return scenarios(EnumSet.of(Fault.CRASH, Fault.CLOCK_SKEW), Arbitraries.integers().between(5, 40));
    }

    /** Any mix of faults: once they stop, the nodes converge to the reference model's state, and no invariant broke on the way. */
    @Property
    void everyNodeConvergesToTheModelsStateWhateverTheFaults(@ForAll("anything") Scenario s) {
        Simulation.Result r = Simulation.run(s);
        assertTrue(r.lost() == 0 || s.has(Fault.TRIM), "a write may be lost only to a refresh after trimming: " + r);
    }

    /**
     * Partitions, crashes and trimming: nodes that fall behind the window refresh, yet no deleted
     * entry comes back, and every write not lost with the only node holding it survives.
     */
    @Property
    void afterSplitsNoDeletedEntryComesBackAndNoOtherWriteIsLost(@ForAll("splitsAndTrimming") Scenario s) {
        Simulation.Result r = Simulation.run(s);
        assertTrue(r.lost() <= r.acknowledged());
    }

    /**
     * Partitions longer than the window, so that both sides may trim changes the other lacks: only
     * a node cut off alone pays with a refresh; where the domain split in two groups, the pair at
     * the seam stops with SPLIT and the simulated operator keeps one side. Once found livelocking
     * ({@code seed=89 nodes=7 topology=chain hub=false writes=18
     * faults=drop,duplicate,reorder,cut,partition,long_split,crash,clock_skew,trim}): the nodes at
     * the seam told each other to refresh, each refreshing from its own side, forever.
     */
    @Property
    void afterSplitsLongerThanTheWindowOnlyTheCutOffSideRefreshesAndTheDomainConverges(@ForAll("splitsLongerThanTheWindow") Scenario s) {
        Simulation.Result r = Simulation.run(s);
        assertTrue(r.lost() <= r.acknowledged());
    }

    /**
     * Frames lost, duplicated, delayed and reordered, connections cut mid-stream: sessions stay
     * within their credit, a refused or ended session applies nothing, no batch is committed twice,
     * a pull reported complete is complete, and backoff stays within its steps.
     */
    @Property
    void onALossyNetworkSessionsStayWithinTheirBoundsAndStillConverge(@ForAll("lossyNetworks") Scenario s) {
        Simulation.Result r = Simulation.run(s);
        assertTrue(r.lost() == 0 || s.has(Fault.TRIM), "without trimming, nothing may be lost: " + r);
    }

    /** Crashes at any step and clocks that jump: each node's clock never goes backwards and its changelog stays contiguous. */
    @Property
    void acrossCrashesAndClockJumpsTheClockNeverGoesBackAndTheChangelogStaysContiguous(@ForAll("crashesAndSkewedClocks") Scenario s) {
        Simulation.run(s);
    }
}
