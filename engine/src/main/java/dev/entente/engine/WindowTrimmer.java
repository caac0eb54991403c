package dev.entente.engine;

import dev.entente.engine.clock.Cid;
import dev.entente.engine.clock.HybridClock;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.merge.EntryState;
import dev.entente.engine.merge.Version;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * Forgets what is older than the window: changelog records (moving each origin's RUV
 * {@code trimmed}) and change-feed events; and, one window later, tombstones and discarded
 * conflict versions (reaped). A consumer that lacks a reaped tombstone therefore also lacks a
 * trimmed record and is told to refresh. Tombstones outlive the records by a window so that a
 * change made concurrently with a deletion, by a node that had not yet seen it, cannot arrive
 * after the tombstone is gone: such a change is younger than the window only if its maker had
 * lacked the deletion for a whole window, and then every up-to-date node refuses it (the maker is
 * the stale one). An origin keeps its RUV entry for good after all of its records are trimmed,
 * so that a consumer that missed them is still detected, however long ago the origin went quiet:
 * an origin retired by a refresh may have reached one part of the domain and not the other (a
 * part held back by a split until an operator chose), and nothing but its entry tells that part
 * it lacks what the retired origin wrote. The RUV grows by one entry per origin ever used (one
 * per node, and one more per refresh or restore). The work is proportional to what is trimmed
 * and to the number of origins.
 */
final class WindowTrimmer {
    private WindowTrimmer() {
    }

    /** Trims; the caller holds the commit lock. */
    static TrimResult trim(Store s, long nowMillis, long windowMillis) {
        long cutoffMillis = nowMillis - windowMillis;
        long cutoff = HybridClock.hlcOf(Math.max(0, cutoffMillis));
        long reapCutoff = HybridClock.hlcOf(Math.max(0, cutoffMillis - windowMillis));
        long changes = 0;
        long tombstones = 0;
        long versions = 0;
        long feedEvents = 0;
        long feedFloor = s.feedFloor;
        TreeMap<OriginId, Ruv.Range> ruv = new TreeMap<>(s.ruv.origins());
        try (CommitBatch b = new CommitBatch(s)) {
            for (Map.Entry<OriginId, Ruv.Range> e : s.ruv.origins().entrySet()) {
                OriginId origin = e.getKey();
                long last = 0;
                try (RocksIterator it = s.iterator(s.changelog)) {
                    for (it.seek(Keys.change(origin, 1)); it.isValid(); it.next()) {
                        byte[] key = it.key();
                        if (!Keys.changeOrigin(key).equals(origin) || Keys.changeHlc(key) >= cutoff) {
                            break;
                        }
                        last = Keys.changeHlc(key);
                        changes++;
                    }
                }
                Ruv.Range r = e.getValue();
                if (last > 0) {
                    try {
                        b.deleteRange(s.changelog, Keys.change(origin, 0), Keys.change(origin, last + 1));
                    } catch (RocksDBException ex) {
                        throw s.fail("trimming", ex);
                    }
                    r = new Ruv.Range(r.max(), Math.max(r.trimmed(), last));
                    ruv.put(origin, r);
                    b.put(s.meta, Keys.ruv(origin), Store.ruvValue(r));
                }
            }
            try (RocksIterator it = s.iterator(s.reap)) {
                for (it.seekToFirst(); it.isValid() && Keys.reapHlc(it.key()) < reapCutoff; it.next()) {
                    byte[] entryKey = Keys.reapEntryKey(it.key());
                    String ns = Keys.entryNamespace(entryKey);
                    UUID id = Keys.entryId(entryKey);
                    EntryState state = b.entry(ns, id);
                    if (state instanceof EntryState.Tombstone t && t.deleted().hlc() < reapCutoff) {
                        b.putEntry(ns, id, null);
                        tombstones++;
                    } else if (state instanceof EntryState.Live l) {
                        TreeMap<Cid, Version> kept = new TreeMap<>();
                        for (Version v : l.versions().values()) {
                            if (v.isDiscarded() && v.discarded().hlc() < reapCutoff) {
                                versions++;
                            } else {
                                kept.put(v.created(), v);
                            }
                        }
                        if (kept.size() != l.versions().size()) {
                            b.putEntry(ns, id, kept.isEmpty() ? null : new EntryState.Live(kept));
                        }
                    }
                    b.delete(s.reap, it.key());
                }
            }
            try (RocksIterator it = s.iterator(s.feed)) {
                for (it.seekToFirst(); it.isValid() && ChangeFeed.commitMillis(it.value()) < cutoffMillis; it.next()) {
                    feedFloor = Keys.feedSequence(it.key());
                    b.delete(s.feed, it.key());
                    feedEvents++;
                }
            }
            long horizon = Math.max(s.reapedHorizon, reapCutoff);
            b.put(s.meta, Keys.meta(Keys.Meta.REAPED_HORIZON), Keys.longBytes(horizon));
            b.put(s.meta, Keys.meta(Keys.Meta.FEED_FLOOR), Keys.longBytes(feedFloor));
            b.commit();
            s.ruv = new Ruv(ruv);
            s.reapedHorizon = horizon;
            s.feedFloor = feedFloor;
        }
        return new TrimResult(cutoff, reapCutoff, changes, tombstones, versions, feedEvents);
    }
}
