package dev.entente.engine;

import dev.entente.engine.clock.Cid;
import dev.entente.engine.merge.EntryState;
import java.util.List;
import java.util.UUID;

/**
 * One change in decoded form: what a changelog record says.
 *
 * @param prevHlc the previous change of the same origin (0 for its first): lets a consumer check
 *     that it applies each origin's changes without a gap
 * @param namespaces namespace definitions, each a register write at this CID
 * @param entries partial entry states to join into the entries they touch
 */
record Change(Cid cid, long prevHlc, List<Namespace> namespaces, List<EntryDelta> entries) {

    record EntryDelta(String namespace, UUID id, EntryState delta) {
    }
}
