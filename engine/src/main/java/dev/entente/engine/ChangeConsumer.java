package dev.entente.engine;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.HybridClock;
import dev.entente.engine.clock.OriginId;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The consumer side of replication: applies a supplier's batch of changelog records atomically
 * with the RUV. Each record is joined into the entries it touches, appended unchanged to the
 * changelog (so it can be supplied onwards) and moves its origin's RUV {@code max}. A record at or
 * below that {@code max} is skipped, which makes applying idempotent; a record whose predecessor is
 * missing breaks contiguity and fails the whole batch.
 */
final class ChangeConsumer {
    private ChangeConsumer() {
    }

    /** Decodes a batch and checks its clocks; needs no lock, so it can run while another batch commits. */
    static PreparedBatch prepare(HybridClock clock, ChangeBatch batch, String supplier) {
        List<ChangeBytes> records = new ArrayList<>(batch.records().size());
        String source = "supplier '" + supplier + "'";
        for (ByteString r : batch.records()) {
            ChangeBytes record = WireCodec.decode(r.toByteArray(), source);
            clock.checkSkew(record.change().cid(), supplier);
            records.add(record);
        }
        return new PreparedBatch(batch, supplier, records);
    }

    /** Applies a prepared batch; the caller holds the commit lock. */
    static ApplyResult apply(Store s, HybridClock clock, EngineOptions options, PreparedBatch prepared) {
        String supplier = prepared.supplier();
        if (s.refreshRequired != null) {
            throw new RefreshRequiredException("this node must be refreshed before it applies changes from '" + supplier + "': " + s.refreshRequired);
        }
        List<ChangeBytes> records = prepared.records();
        int skipped = 0;
        int newConflicts = 0;
        long maxHlc = 0;
        Set<String> redefined = new LinkedHashSet<>();
        try (CommitBatch b = new CommitBatch(s)) {
            CommitTail tail = new CommitTail(s, b, clock.nowMillis());
            EntryWriter writer = new EntryWriter(b, s.reapedHorizon, options.validators(), true);
            prefetch(b, records);
            for (int i = 0; i < records.size(); i++) {
                Change c = records.get(i).change();
                OriginId origin = c.cid().origin();
                long haveMax = tail.max(origin);
                if (c.cid().hlc() <= haveMax) {
                    skipped++;
                    continue;
                }
                if (c.prevHlc() != haveMax) {
                    throw new ChangeGapException(supplier, origin, haveMax, c.prevHlc(), c.cid().hlc());
                }
                if (c.cid().hlc() < s.reapedHorizon) {
                    throw new RefreshRequiredException("supplier '" + supplier + "' sent change " + c.cid() + ", older than the changes this node has already reaped ("
                            + HybridClock.physicalMillis(s.reapedHorizon) + " ms): applying it could bring back a deleted entry, so this node must be refreshed");
                }
                List<FeedEvent.Change> touches = new ArrayList<>();
                for (Namespace ns : c.namespaces()) {
                    Namespace current = b.namespace(ns.name());
                    if (current == null || ns.cid().compareTo(current.cid()) > 0) {
                        b.putNamespace(ns);
                        redefined.add(ns.name());
                        touches.add(new FeedEvent.Change(FeedEvent.Kind.NAMESPACE, ns.name(), null));
                    }
                }
                for (int j = 0; j < c.entries().size(); j++) {
                    // Offered just before the join, which asks the batch for the same entry next:
                    // one hash lookup of the entry instead of two.
                    b.offerEncoding(records.get(i), j);
                    Change.EntryDelta d = c.entries().get(j);
                    EntryWriter.Outcome o = writer.apply(d.namespace(), d.id(), d.delta());
                    if (o.kind() != null) {
                        touches.add(new FeedEvent.Change(o.kind(), d.namespace(), d.id()));
                    }
                    if (o.newlyConflicted()) {
                        newConflicts++;
                    }
                }
                for (CommitBatch.EntryKey k : writer.drainAlsoChanged()) {
                    touches.add(new FeedEvent.Change(FeedEvent.Kind.MODIFIED, k.namespace(), k.id()));
                }
                tail.append(c.cid(), records.get(i).bytes(), false, touches);
                maxHlc = Math.max(maxHlc, c.cid().hlc());
            }
            if (tail.appended() == 0) {
                return new ApplyResult(0, skipped, 0);
            }
            for (String ns : redefined) {
                writer.rebuildNamespace(ns, false);
            }
            tail.commit(Math.max(clock.last(), maxHlc));
            clock.observe(maxHlc);
            return new ApplyResult(tail.appended(), skipped, newConflicts);
        }
    }

    /** Reads, in one go, the entries the batch touches and the unique-index groups of their new values. */
    private static void prefetch(CommitBatch b, List<ChangeBytes> records) {
        List<CommitBatch.EntryKey> entries = new ArrayList<>();
        List<CommitBatch.UniqueKey> unique = new ArrayList<>();
        for (ChangeBytes record : records) {
            Change c = record.change();
            for (Change.EntryDelta d : c.entries()) {
                entries.add(new CommitBatch.EntryKey(d.namespace(), d.id()));
                Namespace ns = b.namespace(d.namespace());
                if (ns == null || ns.schema().uniqueAttributes().isEmpty() || !(d.delta() instanceof dev.entente.engine.merge.EntryState.Live l)) {
                    continue;
                }
                for (dev.entente.engine.merge.Version v : l.versions().values()) {
                    for (String attribute : ns.schema().uniqueAttributes()) {
                        dev.entente.engine.merge.AttributeState a = v.attributes().get(attribute);
                        if (a != null) {
                            for (ByteString value : a.presentValues()) {
                                unique.add(new CommitBatch.UniqueKey(d.namespace(), attribute, value));
                            }
                        }
                    }
                }
            }
        }
        b.prefetch(entries, unique);
    }

    /** Origins the consumer still lacks after a supplier's stream ended with {@code supplierRuv}. */
    static List<String> missing(Ruv consumer, Ruv supplierRuv) {
        List<String> missing = new ArrayList<>();
        for (Map.Entry<OriginId, Ruv.Range> e : supplierRuv.origins().entrySet()) {
            if (consumer.max(e.getKey()) < e.getValue().max()) {
                missing.add("origin " + e.getKey() + ": have " + consumer.max(e.getKey()) + ", supplier has " + e.getValue().max());
            }
        }
        return missing;
    }
}
