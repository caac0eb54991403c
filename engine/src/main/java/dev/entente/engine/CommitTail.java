package dev.entente.engine;

import dev.entente.engine.clock.Cid;
import dev.entente.engine.clock.OriginId;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What every commit of changes writes beside its entries, in the same atomic batch, and then
 * publishes to readers: each change's changelog record (stored as encoded, so a supplier streams
 * it as it is), its origin's RUV {@code max}, its feed record, and at the end the persisted clock.
 * Local commits, remote batches and the trimmer's anchor all end through here, so the changelog,
 * the RUV, the clock and the feed cannot disagree. The caller holds the commit lock.
 */
final class CommitTail {
    private final Store store;
    private final CommitBatch batch;
    private final long feedMillis;
    private final TreeMap<OriginId, Ruv.Range> ruv;
    private long sequence;
    private int appended;

    /** @param feedMillis the wall-clock time the feed records of this commit carry */
    CommitTail(Store store, CommitBatch batch, long feedMillis) {
        this.store = store;
        this.batch = batch;
        this.feedMillis = feedMillis;
        this.ruv = new TreeMap<>(store.ruv.origins());
        this.sequence = store.nextFeedSequence;
    }

    /** The newest change of {@code origin} held, counting those appended to this commit. */
    long max(OriginId origin) {
        Ruv.Range r = ruv.get(origin);
        return r == null ? 0 : r.max();
    }

    /**
     * Appends one change's record and moves its origin's {@code max} to it; records its feed event
     * unless {@code touches} is null (an anchor, which touches nothing a reader follows).
     */
    void append(Cid cid, byte[] record, boolean local, List<FeedEvent.Change> touches) {
        OriginId origin = cid.origin();
        Ruv.Range have = ruv.get(origin);
        Ruv.Range range = new Ruv.Range(cid.hlc(), have == null ? 0 : have.trimmed());
        batch.put(store.changelog, Keys.change(origin, cid.hlc()), record);
        batch.put(store.meta, Keys.ruv(origin), Store.ruvValue(range));
        ruv.put(origin, range);
        if (touches != null) {
            batch.put(store.feed, Keys.feed(sequence++), ChangeFeed.encode(cid, local, feedMillis, touches));
        }
        appended++;
    }

    /** Changes appended so far. */
    int appended() {
        return appended;
    }

    /**
     * Persists the clock at {@code hlc} with everything appended, commits the batch atomically,
     * and only then shows readers the new RUV, clock, feed position and namespaces.
     */
    void commit(long hlc) {
        batch.put(store.meta, Keys.meta(Keys.Meta.HLC), Keys.longBytes(hlc));
        batch.commit();
        store.ruv = new Ruv(ruv);
        store.hlc = hlc;
        store.nextFeedSequence = sequence;
        Map<String, Namespace> changes = batch.namespaceChanges();
        if (!changes.isEmpty()) {
            TreeMap<String, Namespace> m = new TreeMap<>(store.namespaceMap);
            m.putAll(changes);
            store.namespaceMap = Collections.unmodifiableSortedMap(m);
        }
    }
}
