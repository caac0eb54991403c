package dev.entente.engine;

import dev.entente.engine.clock.Cid;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A local write transaction being built: its operations commit together as one change with one
 * CID, atomically, or not at all. Not thread-safe; build it on one thread.
 */
public final class Transaction {
    private final Engine engine;
    private final List<WriteOp> ops = new ArrayList<>();

    Transaction(Engine engine) {
        this.engine = engine;
    }

    public Transaction defineNamespace(String namespace, Schema schema) {
        ops.add(new WriteOp.DefineNamespace(namespace, schema));
        return this;
    }

    /** Creates an entry; take a new id from {@link Engine#newEntryId()}. */
    public Transaction create(String namespace, UUID id, Attributes attributes) {
        ops.add(new WriteOp.Create(namespace, id, attributes));
        return this;
    }

    public Transaction modify(String namespace, UUID id, AttributeChange... changes) {
        ops.add(new WriteOp.Modify(namespace, id, List.of(changes)));
        return this;
    }

    public Transaction modify(String namespace, UUID id, List<AttributeChange> changes) {
        ops.add(new WriteOp.Modify(namespace, id, changes));
        return this;
    }

    public Transaction delete(String namespace, UUID id) {
        ops.add(new WriteOp.Delete(namespace, id));
        return this;
    }

    public Transaction discardConflict(String namespace, UUID id, Cid created) {
        ops.add(new WriteOp.DiscardConflict(namespace, id, created));
        return this;
    }

    public Transaction add(WriteOp op) {
        ops.add(op);
        return this;
    }

    public List<WriteOp> ops() {
        return List.copyOf(ops);
    }

    /**
     * Commits every operation as one change.
     *
     * @return the change's CID, or null when nothing changed (every operation was a no-op)
     */
    public Cid commit() {
        return engine.commit(ops);
    }
}
