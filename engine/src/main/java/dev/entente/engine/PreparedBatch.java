package dev.entente.engine;

import java.util.List;

/**
 * A supplier's batch decoded and checked against the clock-skew limit, ready to commit. Preparing
 * takes no lock: a transport prepares the next batch while the previous one commits.
 */
public final class PreparedBatch {
    private final ChangeBatch batch;
    private final String supplier;
    private final List<ChangeBytes> records;

    PreparedBatch(ChangeBatch batch, String supplier, List<ChangeBytes> records) {
        this.batch = batch;
        this.supplier = supplier;
        this.records = List.copyOf(records);
    }

    public ChangeBatch batch() {
        return batch;
    }

    public String supplier() {
        return supplier;
    }

    List<ChangeBytes> records() {
        return records;
    }
}
