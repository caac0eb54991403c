package dev.entente.testkit.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Scenarios that once failed, kept so they keep passing. Each names what it found.
 */
class RegressionScenarios {

    /**
     * Nodes reap tombstones by their own (skewed) clocks: the digests differed at the end until
     * the quiescence let the window pass on every node before comparing.
     */
    @Test
    void tombstonesReapedAtDifferentMomentsStillConverge() {
        Simulation.run(Scenario.parse("seed=2455641513587447586 nodes=5 topology=ring hub=false writes=39 faults=duplicate,clock_skew,trim"));
    }

    /**
     * Two sides of a long partition each trimmed changes the other never got. A node refreshed
     * from a member of its own side still lacked the other side's changes and was told to refresh
     * again, forever (when the simulator ran its own copy of the session flow); kept as examples of
     * long splits, now run by the sessions nodes run.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {
        "seed=1 nodes=3 topology=chain hub=true writes=38 faults=drop,duplicate,reorder,partition,long_split,trim",
        "seed=0 nodes=5 topology=chain hub=false writes=37 faults=drop,duplicate,reorder,partition,long_split,crash,clock_skew,trim",
        "seed=0 nodes=6 topology=chain hub=true writes=32 faults=drop,duplicate,reorder,partition,long_split,crash,clock_skew,trim",
        "seed=3 nodes=4 topology=chain hub=false writes=37 faults=duplicate,partition,long_split,crash,trim",
        "seed=0 nodes=5 topology=chain hub=false writes=39 faults=drop,duplicate,reorder,partition,long_split,trim",
    })
    void longSplitsStillConverge(String spec) {
        Simulation.run(Scenario.parse(spec));
    }

    /**
     * The first run of the simulator on the session classes nodes run: a node that marked itself
     * for refresh as a supplier (a consumer held trimmed changes it never received) kept pulling
     * on its agreements' intervals instead of refreshing, so it never recovered, and the domain
     * never converged. An agreement now takes every turn (interval, notification, sync) through
     * the same decision as a new session: refresh if this node must be refreshed.
     */
    @Test
    void aNodeThatFoundItselfStaleAsASupplierRefreshesThroughItsAgreements() {
        Simulation.Result r = Simulation.run(Scenario.parse("seed=0 nodes=5 topology=chain hub=false writes=39 faults=drop,duplicate,reorder,partition,long_split,trim"));
        org.junit.jupiter.api.Assertions.assertTrue(r.refreshes() > 0, "the scenario still exercises refreshes");
    }

    /**
     * A create concurrent with a deletion (stamped later than it by a skewed clock) reached a node
     * after that node had reaped the tombstone, and brought the entry back. Tombstones now outlive
     * the changelog records by a window.
     */
    @Test
    void aConcurrentCreateArrivingAfterTheTombstoneWasReapedDoesNotRevive() {
        Simulation.run(Scenario.parse("seed=-304 nodes=2 topology=chain hub=false writes=25 faults=drop,duplicate,reorder,partition,long_split,crash,clock_skew,trim"));
    }

    /**
     * Bugs planted in the session classes, each found by a convergence property (docs/testing.md
     * says which, and after how many tries): the shrunk scenarios, which pass without the bug.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {
        "seed=-1 nodes=2 topology=chain hub=false writes=11 faults=drop,duplicate,reorder,cut,partition",
        "seed=0 nodes=3 topology=chain hub=false writes=10 faults=drop,duplicate,reorder,cut,partition,trim",
        "seed=0 nodes=2 topology=chain hub=false writes=12 faults=drop,duplicate,reorder,cut",
        "seed=0 nodes=4 topology=chain hub=false writes=10 faults=drop,duplicate,reorder,cut,partition,long_split,trim",
        "seed=-3943192 nodes=7 topology=full-mesh hub=false writes=35 faults=reorder,partition,long_split,clock_skew,trim",
    })
    void scenariosThatCaughtPlantedSessionBugs(String spec) {
        Simulation.run(Scenario.parse(spec));
    }

    /**
     * Found while origins aged out of the RUV (they no longer do): the simulated operator answered
     * one SPLIT twice (refreshing a node again from a snapshot older than what it then held); the
     * convergence check compared origins some nodes had already forgotten; nodes stopped trimming
     * while quiescing. The last one showed that aging out was unsound: a node behind a split
     * lacked a retired origin's changes, the operator's refresh of its supplier brought them into
     * its part of the domain after the origin had aged out, and nothing told it to refresh. In
     * the two-node one, the simulated operator kept the side of a node its peer had just marked
     * for refresh, so each waited for the other to supply. In the second two-node one, the verdict marking the
     * kept side crossed the operator's choice (the consumer direction marked it, the supplier
     * direction had said SPLIT): an operator's refresh from a supplier that serves nobody now
     * takes its mark back, as the node's refresh command does.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {
        "seed=-18 nodes=4 topology=ring hub=false writes=29 faults=reorder,cut,partition,long_split,crash,clock_skew,trim",
        "seed=957698 nodes=5 topology=chain hub=false writes=29 faults=reorder,partition,long_split,crash,clock_skew,trim",
        "seed=-91276 nodes=6 topology=chain hub=false writes=21 faults=drop,reorder,cut,partition,long_split,trim",
        "seed=4 nodes=6 topology=ring hub=false writes=22 faults=drop,duplicate,reorder,partition,long_split,crash,clock_skew,trim",
        "seed=1511 nodes=2 topology=chain hub=true writes=25 faults=drop,reorder,partition,long_split,crash,clock_skew,trim",
        "seed=-8308492 nodes=2 topology=chain hub=true writes=34 faults=drop,duplicate,reorder,cut,partition,crash,clock_skew,trim",
    })
    void retiredOriginsAndSplitsStillConverge(String spec) {
        Simulation.run(Scenario.parse(spec));
    }

    @Test
    void aScenarioSpecReadsBackAsItself() {
        Scenario s = Scenario.parse("seed=-5 nodes=7 topology=full-mesh hub=true writes=0 faults=drop,clock_skew");
        assertEquals(s, Scenario.parse(s.spec()));
    }
}
