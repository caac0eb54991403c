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

    @Test
    void aScenarioSpecReadsBackAsItself() {
        Scenario s = Scenario.parse("seed=-5 nodes=7 topology=full-mesh hub=true writes=0 faults=drop,clock_skew");
        assertEquals(s, Scenario.parse(s.spec()));
    }
}
