package dev.entente.testkit.sim;

/** An invariant failed during a simulation; the message carries the scenario and how to replay it. */
public final class InvariantViolation extends AssertionError {
    private final Invariant invariant;

    public InvariantViolation(Invariant invariant, Scenario scenario, long time, String detail, String trace) {
        super(invariant.description() + " violated at simulated time " + time + " ms: " + detail
                + "\n  scenario: " + scenario.spec()
                + "\n  replay:   " + scenario.replayCommand()
                + (trace.isEmpty() ? "" : "\n  last events:\n" + trace));
        this.invariant = invariant;
    }

    public Invariant invariant() {
        return invariant;
    }
}
