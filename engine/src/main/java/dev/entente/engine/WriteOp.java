package dev.entente.engine;

import dev.entente.engine.clock.Cid;
import java.util.List;
import java.util.UUID;

/** One operation of a local write transaction. */
public sealed interface WriteOp {

    /** Creates a namespace or changes its schema. */
    record DefineNamespace(String namespace, Schema schema) implements WriteOp {
        public DefineNamespace {
            Names.checkNamespace(namespace);
        }
    }

    record Create(String namespace, UUID id, Attributes attributes) implements WriteOp {
        public Create {
            Names.checkNamespace(namespace);
        }
    }

    record Modify(String namespace, UUID id, List<AttributeChange> changes) implements WriteOp {
        public Modify {
            Names.checkNamespace(namespace);
            changes = List.copyOf(changes);
        }
    }

    record Delete(String namespace, UUID id) implements WriteOp {
        public Delete {
            Names.checkNamespace(namespace);
        }
    }

    /**
     * Resolves an entry conflict by dropping the conflicting version created at {@code created}
     * (see {@link Engine#conflicts}). The version that owns the id cannot be discarded: delete the
     * entry, or modify it, instead.
     */
    record DiscardConflict(String namespace, UUID id, Cid created) implements WriteOp {
        public DiscardConflict {
            Names.checkNamespace(namespace);
        }
    }
}
