package dev.entente.engine;

import dev.entente.engine.clock.Cid;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * One applied change as the change feed delivers it, in this node's commit order.
 *
 * @param sequence this node's feed position, the cursor to resume after
 * @param cid the change's CID (null for a reset)
 * @param local whether the change was made on this node
 * @param reset the store was replaced by a refresh: everything may have changed, re-read it
 * @param changes what the change did, per namespace and entry
 */
public record FeedEvent(long sequence, Cid cid, boolean local, boolean reset, Instant committed, List<Change> changes) {

    public FeedEvent {
        changes = List.copyOf(changes);
    }

    public enum Kind { NAMESPACE, CREATED, MODIFIED, DELETED }

    /** @param id the entry id; null for a namespace definition */
    public record Change(Kind kind, String namespace, UUID id) {
    }
}
