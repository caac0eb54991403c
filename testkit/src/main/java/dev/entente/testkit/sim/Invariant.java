package dev.entente.testkit.sim;

/** The properties the simulator checks, after every event or at the end. */
public enum Invariant {
    CONVERGENCE("1. convergence: once faults stop and every agreement has pulled, all nodes have the same digest"),
    MODEL_EQUIVALENCE("2. model equivalence: the converged state equals the reference model's"),
    NO_RESURRECTION("3. no resurrection: a deleted entry never reappears on a node that has seen the deletion"),
    NO_LOST_WRITE("4. no lost write: every acknowledged write is in the converged state (unless a refresh of the only node holding it discarded it)"),
    CONFLICT_CONVERGENCE("5. conflict convergence: every node holds the same conflict entries and flags"),
    HLC_MONOTONIC("6. each node's HLC never goes backwards, across crashes"),
    RUV_INVARIANT("7. RUV invariant: each origin's records are contiguous from just after RUV trimmed to RUV max"),
    NO_ERROR("the engine raised no unexpected error");

    private final String description;

    Invariant(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
