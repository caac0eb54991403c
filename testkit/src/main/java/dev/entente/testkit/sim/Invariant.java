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
    CREDIT_BOUNDED("8. credit never goes below zero: a supplier sends no more than it was granted, a consumer grants no more than its credit"),
    LAGGING_NODE_QUIET("9. a node marked for refresh neither supplies, nor pulls changes, nor takes local writes"),
    REFUSED_APPLIES_NOTHING("10. a session that has ended (refused, failed, superseded) applies nothing"),
    NO_DOUBLE_COMMIT("11. no batch is committed twice"),
    PULL_COMPLETE("12. a pull reported complete leaves the consumer covering the supplier's end-of-stream RUV"),
    BACKOFF_BOUNDED("13. an agreement's retry delay after k failures in a row stays within its backoff step for k"),
    RUV_KEPT("14. the RUV never forgets: what a node's RUV covered since its last refresh stays covered, across trims and crashes, however long ago its origin went quiet"),
    NO_ERROR("the engine raised no unexpected error");

    private final String description;

    Invariant(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
