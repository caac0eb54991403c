package dev.entente.testkit.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The convergence properties, each over generated topologies (2 to 7 nodes; chain, star, ring,
 * full mesh; with or without a transport hub that accepts no local writes), workloads and fault
 * schedules, on real engines and RocksDB. A run checks every invariant as it goes and throws at
 * the first violation; each property below fails on its own invariant's violation, and on any
 * other (a bug is a bug). Failures print the scenario and the command that replays it; jqwik
 * shrinks towards fewer nodes, fewer writes and fewer faults.
 *
 * <p>Tries per property: 200 by default ({@code junit-platform.properties}), 2,000 with
 * {@code mvn -Pexhaustive verify}.
 */
class ConvergenceProperties {

    @Provide
    Arbitrary<Scenario> scenarios() {
        Arbitrary<Set<Scenario.Fault>> faults = Arbitraries.subsetOf(Scenario.Fault.values())
                .map(s -> s.isEmpty() ? EnumSet.noneOf(Scenario.Fault.class) : EnumSet.copyOf(s));
        return Combinators.combine(Arbitraries.longs(), Arbitraries.integers().between(2, 7), Arbitraries.of(Topology.class),
                Arbitraries.of(false, false, false, true), Arbitraries.integers().between(0, 40), faults)
                .as(Scenario::new);
    }

    private static Simulation.Result run(Scenario s, Invariant focus) {
        try {
            return Simulation.run(s);
        } catch (InvariantViolation v) {
            if (v.invariant() == focus) {
                throw v;
            }
            throw new AssertionError("while checking '" + focus.description() + "', another invariant failed first: " + v.getMessage(), v);
        }
    }

    @Property
    void convergenceAllNodesReachTheSameDigestOnceFaultsStop(@ForAll("scenarios") Scenario s) {
        assertTrue(run(s, Invariant.CONVERGENCE).digest() != null);
    }

    @Property
    void modelEquivalenceTheConvergedStateEqualsTheReferenceModel(@ForAll("scenarios") Scenario s) {
        run(s, Invariant.MODEL_EQUIVALENCE);
    }

    @Property
    void noResurrectionADeletedEntryNeverReappearsOnANodeThatSawItsDeletion(@ForAll("scenarios") Scenario s) {
        run(s, Invariant.NO_RESURRECTION);
    }

    @Property
    void noLostWriteEveryAcknowledgedWriteIsInTheConvergedState(@ForAll("scenarios") Scenario s) {
        Simulation.Result r = run(s, Invariant.NO_LOST_WRITE);
        assertTrue(r.lost() <= r.acknowledged());
    }

    @Property
    void conflictConvergenceEveryNodeHoldsTheSameConflicts(@ForAll("scenarios") Scenario s) {
        run(s, Invariant.CONFLICT_CONVERGENCE);
    }

    @Property
    void hlcNeverGoesBackwardsAcrossCrashes(@ForAll("scenarios") Scenario s) {
        run(s, Invariant.HLC_MONOTONIC);
    }

    @Property
    void ruvInvariantEachOriginsRecordsAreContiguousFromTrimmedToMax(@ForAll("scenarios") Scenario s) {
        run(s, Invariant.RUV_INVARIANT);
    }
}
