package dev.entente.engine;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.entente.engine.clock.Cid;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * Every applied change, local and remote, in this node's commit order, stored durably so that an
 * embedding server can resume after a restart. Events older than the window are trimmed with the
 * changelog. Read it with {@link #read} and a cursor of your own, or {@link #subscribe} to have
 * events pushed on a thread of the feed's, with a cursor the feed keeps under a name.
 */
public final class ChangeFeed {

    /** Receives events of a subscription, one at a time, in order. */
    @FunctionalInterface
    public interface Listener {
        void onEvent(FeedEvent event) throws Exception;
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ChangeFeed.class);
    private final Engine engine;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long signals;
    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();

    ChangeFeed(Engine engine) {
        this.engine = engine;
    }

    private static final int FEED_HLC = StoreRecords.FeedRecord.HLC_FIELD_NUMBER;
    private static final int FEED_ORIGIN = StoreRecords.FeedRecord.ORIGIN_FIELD_NUMBER;
    private static final int FEED_LOCAL = StoreRecords.FeedRecord.LOCAL_FIELD_NUMBER;
    private static final int FEED_COMMIT_MILLIS = StoreRecords.FeedRecord.COMMIT_MILLIS_FIELD_NUMBER;
    private static final int FEED_TOUCHES = StoreRecords.FeedRecord.TOUCHES_FIELD_NUMBER;
    private static final int FEED_RESET = StoreRecords.FeedRecord.RESET_FIELD_NUMBER;
    private static final int TOUCH_KIND = StoreRecords.FeedTouch.KIND_FIELD_NUMBER;
    private static final int TOUCH_NAMESPACE = StoreRecords.FeedTouch.NAMESPACE_FIELD_NUMBER;
    private static final int TOUCH_ID = StoreRecords.FeedTouch.ID_FIELD_NUMBER;

    /**
     * The feed record of one commit, written as protobuf's generated {@code FeedRecord} would write
     * it (checked by {@code WireCodecProperties}). Not through the generated builders: a record of
     * 1,000 entries made 2,000 builder and message objects, and in a replica's first catch-up the
     * loops of the generated code ran interpreted for most of it, as each runs once per record.
     *
     * @param cid the change's CID; null for the reset record of a refresh
     */
    static byte[] encode(Cid cid, boolean local, long millis, List<FeedEvent.Change> changes) {
        WireWriter w = new WireWriter(32 + 40 * changes.size());
        if (cid != null) {
            w.fixed64(FEED_HLC, cid.hlc());
            w.bytes16(FEED_ORIGIN, cid.origin().hi(), cid.origin().lo());
        }
        w.bool(FEED_LOCAL, local);
        w.int64(FEED_COMMIT_MILLIS, millis);
        for (FeedEvent.Change c : changes) {
            int start = w.beginMessage(FEED_TOUCHES);
            w.int64(TOUCH_KIND, c.kind().ordinal() + 1);
            w.string(TOUCH_NAMESPACE, c.namespace());
            if (c.id() != null) {
                w.bytes16(TOUCH_ID, c.id().getMostSignificantBits(), c.id().getLeastSignificantBits());
            }
            w.endMessage(start);
        }
        w.bool(FEED_RESET, cid == null);
        return w.toByteArray();
    }

    static FeedEvent decode(long sequence, byte[] bytes) {
        try {
            StoreRecords.FeedRecord r = StoreRecords.FeedRecord.parseFrom(bytes);
            List<FeedEvent.Change> changes = new ArrayList<>(r.getTouchesCount());
            for (StoreRecords.FeedTouch t : r.getTouchesList()) {
                UUID id = t.getId().isEmpty() ? null : Keys.uuid(t.getId().toByteArray());
                changes.add(new FeedEvent.Change(FeedEvent.Kind.values()[t.getKindValue() - 1], t.getNamespace(), id));
            }
            Cid cid = r.getReset() ? null : new Cid(r.getHlc(), WireCodec.origin(r.getOrigin()));
            return new FeedEvent(sequence, cid, r.getLocal(), r.getReset(), Instant.ofEpochMilli(r.getCommitMillis()), changes);
        } catch (InvalidProtocolBufferException e) {
            throw new StoreException("feed event " + sequence + " is corrupt: " + e.getMessage(), e);
        }
    }

    static long commitMillis(byte[] bytes) {
        try {
            return StoreRecords.FeedRecord.parseFrom(bytes).getCommitMillis();
        } catch (InvalidProtocolBufferException e) {
            throw new StoreException("a feed event is corrupt: " + e.getMessage(), e);
        }
    }

    /** The sequence of the newest event (0 when there is none yet). */
    public long lastSequence() {
        return engine.withStore(s -> s.nextFeedSequence - 1);
    }

    /**
     * Up to {@code limit} events after {@code after}, oldest first.
     *
     * @throws FeedGapException when events after {@code after} were already trimmed
     */
    public List<FeedEvent> read(long after, int limit) {
        return engine.withStore(s -> {
            List<FeedEvent> events = new ArrayList<>();
            try (RocksIterator it = s.iterator(s.feed)) {
                it.seek(Keys.feed(after + 1));
                if (it.isValid()) {
                    long first = Keys.feedSequence(it.key());
                    // A refresh replaced everything with a reset event: a cursor from before it
                    // gets the reset (re-read everything), not a gap.
                    if (first > after + 1 && after < s.feedFloor && !decode(first, it.value()).reset()) {
                        throw new FeedGapException(after, first);
                    }
                } else if (after < s.feedFloor) {
                    throw new FeedGapException(after, s.feedFloor + 1);
                }
                for (; it.isValid() && events.size() < limit; it.next()) {
                    events.add(decode(Keys.feedSequence(it.key()), it.value()));
                }
            }
            return events;
        });
    }

    /** The cursor stored under {@code name}: the last event it acknowledged (0 when none). */
    public long cursor(String name) {
        return engine.withStore(s -> {
            byte[] v = s.get(s.meta, Keys.cursor(name));
            return v == null ? 0 : Keys.bytesLong(v);
        });
    }

    /** Stores a named cursor: {@code name} has processed every event up to {@code sequence}. */
    public void acknowledge(String name, long sequence) {
        engine.withStore(s -> {
            try {
                s.db.put(s.meta, s.writeOptions, Keys.cursor(name), Keys.longBytes(sequence));
            } catch (RocksDBException e) {
                throw s.fail("storing feed cursor '" + name + "' in", e);
            }
            return null;
        });
    }

    /**
     * Delivers every event after the cursor stored under {@code name} to {@code listener}, then
     * follows new ones; the cursor is stored after each batch of events read together (up to 256),
     * so delivery resumes there after a restart (at least once: events delivered since the last
     * stored cursor when the process dies come again).
     */
    public Subscription subscribe(String name, Listener listener) {
        Subscription s = new Subscription(name, cursor(name), listener);
        subscriptions.add(s);
        s.thread.start();
        return s;
    }

    void signal() {
        lock.lock();
        try {
            signals++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void closeAll() {
        for (Subscription s : subscriptions) {
            s.close();
        }
    }

    /** A running subscription; close it to stop delivery. */
    public final class Subscription implements AutoCloseable {
        private final String name;
        private final Listener listener;
        private final Thread thread;
        private volatile long position;
        private volatile boolean stopped;
        private volatile Exception failure;

        private Subscription(String name, long position, Listener listener) {
            this.name = name;
            this.position = position;
            this.listener = listener;
            this.thread = new Thread(this::run, "entente-feed-" + name);
            this.thread.setDaemon(true);
        }

        private void run() {
            while (!stopped) {
                long seen;
                lock.lock();
                try {
                    seen = signals;
                } finally {
                    lock.unlock();
                }
                List<FeedEvent> events;
                long acknowledged = position;
                try {
                    events = read(position, 256);
                    for (FeedEvent e : events) {
                        if (stopped) {
                            break;
                        }
                        listener.onEvent(e);
                        position = e.sequence();
                    }
                    // One cursor write per batch read, not per event: a busy feed would otherwise
                    // cost a store write for every change it delivers.
                    if (position != acknowledged) {
                        acknowledge(name, position);
                    }
                    if (stopped) {
                        return;
                    }
                } catch (Exception e) {
                    if (position != acknowledged) {
                        try {
                            acknowledge(name, position);
                            acknowledged = position;
                        } catch (RuntimeException ack) {
                            e.addSuppressed(ack);
                        }
                    }
                    if (stopped) {
                        return;
                    }
                    failure = e;
                    stopped = true;
                    LOG.error("change-feed subscription '" + name + "' stopped at event " + position
                            + ": " + e.getMessage() + ". Fix the listener and subscribe again; delivery resumes after event " + acknowledged, e);
                    return;
                }
                if (events.isEmpty()) {
                    lock.lock();
                    try {
                        if (signals == seen && !stopped) {
                            changed.await(1, java.util.concurrent.TimeUnit.SECONDS);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    } finally {
                        lock.unlock();
                    }
                }
            }
        }

        /**
         * The last event delivered to the listener. The stored cursor follows once per batch, so
         * it may be up to 255 events behind this while a batch is being delivered.
         */
        public long position() {
            return position;
        }

        /** Why delivery stopped, when the listener or the store failed; null while running. */
        public Exception failure() {
            return failure;
        }

        @Override
        public void close() {
            stopped = true;
            signal();
            if (Thread.currentThread() != thread) {
                try {
                    thread.join(5000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            subscriptions.remove(this);
        }
    }
}
