package dev.entente.engine;

import dev.entente.engine.clock.Cid;
import dev.entente.engine.clock.ClockSkewException;
import dev.entente.engine.clock.HybridClock;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.merge.EntryState;
import dev.entente.engine.merge.ResolvedEntry;
import dev.entente.engine.merge.Version;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import org.rocksdb.RocksIterator;

/**
 * One node's replica: a RocksDB store of entries and their changelog, written locally through
 * {@link #transaction()}, and replicated by pulling: a supplier hands out the changes a consumer
 * lacks ({@link #supplyChanges}), the consumer applies them ({@link #applyChanges}); or by
 * refresh ({@link #exportSnapshot}, {@link #beginRefresh}). There is no network here: a transport
 * (or the simulator) carries the batches and chunks.
 *
 * <p>Thread-safe. Commits (local and remote) are serialised; reads run concurrently with them.
 */
public final class Engine implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Engine.class);
    private final java.util.concurrent.atomic.AtomicLong localCommits = new java.util.concurrent.atomic.AtomicLong();

    private final EngineOptions options;
    private final DataDirectory directory;
    private final HybridClock clock;
    private final ReentrantLock commitLock = new ReentrantLock();
    /** Random bytes for {@link #newEntryId}, drawn ahead from a secure source; guards itself. */
    private final ByteBuffer idBytes = ByteBuffer.allocate(16 * 256).position(16 * 256);
    /** Writes the change record of each local commit; used under the commit lock only. */
    private final WireWriter recordWriter = new WireWriter(64 * 1024);
    private final ChangeFeed feed;
    private final List<Runnable> commitListeners = new CopyOnWriteArrayList<>();
    private volatile Store store;
    private volatile boolean closed;
    private final Contacts contacts;
    /** The peer whose word marked this node for refresh, when one did: the one to refresh from. */
    private volatile String refreshFrom;
    /** When this node last took a new origin on a consumer's word (0: not since it opened); under the commit lock. */
    private long originTakenAt;

    private Engine(EngineOptions options) {
        this.options = options;
        this.directory = new DataDirectory(options.dataDirectory());
        try {
            directory.removeInactive();
            UUID newDomain;
            synchronized (options.random()) {
                newDomain = new UUID(options.random().nextLong(), options.random().nextLong());
            }
            this.store = Store.open(directory.active(), options, newDomain);
        } catch (RuntimeException e) {
            directory.close();
            throw e;
        }
        this.clock = new HybridClock(options.wallClock(), options.maxClockSkew(), Math.max(store.hlc, store.ruv.maxHlc()));
        this.feed = new ChangeFeed(this);
        try {
            this.contacts = Contacts.decode(store.db.get(store.meta, Keys.meta(Keys.Meta.CONTACTS)));
        } catch (org.rocksdb.RocksDBException e) {
            store.close();
            directory.close();
            throw new StoreException("reading this node's contacts from " + options.dataDirectory() + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Opens the engine on its data directory, creating a new store (with a new origin id and a new
     * domain id) when there is none. A node that should join an existing domain refreshes from a
     * member right after.
     */
    public static Engine open(EngineOptions options) {
        return new Engine(options);
    }

    EngineOptions options() {
        return options;
    }

    // ---- identity and status

    public OriginId originId() {
        return store.origin;
    }

    public UUID domainId() {
        return store.domain;
    }

    public Ruv ruv() {
        return store.ruv;
    }

    /** The last HLC this node used or saw. */
    public long lastHlc() {
        return clock.last();
    }

    public HybridClock clock() {
        return clock;
    }

    public Path dataDirectory() {
        return directory.root();
    }

    /** Why this node must be refreshed before it writes or supplies again; empty when it need not. */
    public Optional<String> refreshRequired() {
        return Optional.ofNullable(store.refreshRequired);
    }

    /**
     * The peer whose word marked this node for refresh (a supplier that answered
     * {@code REFRESH_REQUIRED}, a consumer that found this supplier stale, an operator's choice):
     * it holds what this node lacks, so it is the one to refresh from. Empty when no peer is known
     * (or after a restart) and when this node need not be refreshed.
     */
    public Optional<String> refreshFrom() {
        return store.refreshRequired == null ? Optional.empty() : Optional.ofNullable(refreshFrom);
    }

    /** When the store was last probed for writing again (nanoTime), under the commit lock. */
    private long lastWriteProbe;

    /**
     * Why this node's store cannot commit now (a full disk, a broken file), or empty when it can.
     * While commits fail, a call at most once a second tries a small write, so that health turns
     * good again by itself once the cause is gone.
     */
    public Optional<String> storeProblem() {
        return storeFailure().map(StoreFailure::reason);
    }

    /**
     * Why this node's store cannot commit now, whether that is a full disk, and since when; empty
     * when it can. Like {@link #storeProblem()}, a call tries a small write at most once a second.
     */
    public Optional<StoreFailure> storeFailure() {
        Store s = store;
        // Held for the native calls below: a refresh or close may release the store meanwhile.
        if (closed || !s.tryAcquire()) {
            return Optional.empty();
        }
        try {
            // A background error (a flush or compaction that could not write) fails the next
            // commit; a probe finds it before a client's write does.
            boolean newBackgroundError = s.backgroundErrors() > s.backgroundErrorsSeen;
            if (s.writeFailure == null && !newBackgroundError) {
                return Optional.empty();
            }
            if (commitLock.tryLock()) {
                try {
                    long now = System.nanoTime();
                    if (now - lastWriteProbe > 1_000_000_000L) {
                        lastWriteProbe = now;
                        // Seen only once a probe looked: an error found between probes waits for the next.
                        s.backgroundErrorsSeen = Math.max(s.backgroundErrorsSeen, s.backgroundErrors());
                        try (CommitBatch b = new CommitBatch(s)) {
                            b.put(s.meta, Keys.meta(Keys.Meta.WRITE_PROBE), Keys.longBytes(clock.nowMillis()));
                            b.commit();
                        } catch (StoreException stillFailing) {
                            // Still failing: writeFailure says why.
                        }
                    }
                } finally {
                    commitLock.unlock();
                }
            }
            return Optional.ofNullable(s.writeFailure);
        } finally {
            s.release();
        }
    }

    /** The changelog and tombstone window. */
    public java.time.Duration window() {
        return options.window();
    }

    /** Notes that an exchange with {@code peer} just completed (a pull served or applied, a refresh). */
    public void noteContact(String peer) {
        if (contacts.note(peer, clock.nowMillis())) {
            commitLock.lock();
            try {
                Store s = openStore();
                try (CommitBatch b = new CommitBatch(s)) {
                    b.put(s.meta, Keys.meta(Keys.Meta.CONTACTS), contacts.encode());
                    b.commit();
                }
            } finally {
                commitLock.unlock();
            }
        }
    }

    /** Whether this node completed an exchange with a peer other than {@code peer} within the window. */
    public boolean inContactExcept(String peer) {
        java.util.OptionalLong age = contactAgeExcept(peer);
        return age.isPresent() && age.getAsLong() <= options.window().toMillis();
    }

    /** How long ago this node last completed an exchange with a peer other than {@code peer}; empty when never. */
    public java.util.OptionalLong contactAgeExcept(String peer) {
        java.util.OptionalLong last = contacts.lastExcept(peer);
        return last.isPresent() ? java.util.OptionalLong.of(Math.max(0, clock.nowMillis() - last.getAsLong())) : last;
    }

    public SortedMap<String, Namespace> namespaces() {
        return store.namespaceMap;
    }

    public Optional<Namespace> namespace(String name) {
        return Optional.ofNullable(store.namespaceMap.get(name));
    }

    // ---- local writes

    public Transaction transaction() {
        return new Transaction(this);
    }

    /** Creates one entry under a new id, in a transaction of its own, and returns the id. */
    public UUID create(String namespace, Attributes attributes) {
        UUID id = newEntryId();
        transaction().create(namespace, id, attributes).commit();
        return id;
    }

    /** Modifies one entry in a transaction of its own. */
    public Cid modify(String namespace, UUID id, AttributeChange... changes) {
        return transaction().modify(namespace, id, changes).commit();
    }

    /** Deletes one entry in a transaction of its own. */
    public Cid delete(String namespace, UUID id) {
        return transaction().delete(namespace, id).commit();
    }

    /** A new random entry id (version 4), from the engine's random source. */
    public UUID newEntryId() {
        long hi;
        long lo;
        RandomGenerator random = options.random();
        if (random instanceof SecureRandom secure) {
            synchronized (idBytes) {
                // Drawn 256 ids at a time: the default SecureRandom (NativePRNG) reads
                // /dev/urandom on every nextBytes, a system call that cost 160 ns per id drawn
                // alone, 2.5% of a batched commit's profile. Ids need to be unpredictable and
                // unique, not secret, so holding the next few in memory costs nothing.
                if (!idBytes.hasRemaining()) {
                    secure.nextBytes(idBytes.array());
                    idBytes.clear();
                }
                hi = idBytes.getLong();
                lo = idBytes.getLong();
            }
        } else {
            synchronized (random) {
                hi = random.nextLong();
                lo = random.nextLong();
            }
        }
        // A version-4 UUID, as UUID.randomUUID makes, from the engine's (seedable) random source.
        return new UUID((hi & ~0xF000L) | 0x4000L, (lo & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L);
    }

    /**
     * Commits the operations as one change, atomically with its changelog record, the RUV and the
     * clock. Returns its CID, or null when no operation changed anything.
     */
    public Cid commit(List<WriteOp> ops) {
        if (ops.isEmpty()) {
            throw new InvalidWriteException("a transaction needs at least one operation");
        }
        Cid cid;
        commitLock.lock();
        try {
            Store s = openStore();
            if (s.refreshRequired != null) {
                throw new RefreshRequiredException("this node must be refreshed before it accepts writes: " + s.refreshRequired);
            }
            long hlc = clock.next();
            cid = new Cid(hlc, s.origin);
            try (CommitBatch b = new CommitBatch(s)) {
                LocalWriter writer = new LocalWriter(b, new EntryWriter(b, s.reapedHorizon, options.validators(), false), cid, options);
                LocalWriter.prefetch(b, ops);
                for (WriteOp op : ops) {
                    writer.apply(op);
                }
                List<FeedEvent.Change> touches = new ArrayList<>();
                Change change = writer.finish(s.ruv.max(s.origin), touches);
                if (change == null) {
                    return null;
                }
                ChangeBytes encoded = WireCodec.encode(change, recordWriter);
                offerCreates(b, encoded);
                byte[] record = encoded.bytes();
                if (record.length > options.maxTransactionBytes()) {
                    throw new LimitExceededException("the transaction's change record", record.length, options.maxTransactionBytes(), "maxTransactionBytes");
                }
                CommitTail tail = new CommitTail(s, b, clock.nowMillis());
                tail.append(cid, record, true, touches);
                tail.commit(hlc);
            }
        } finally {
            commitLock.unlock();
        }
        localCommits.incrementAndGet();
        committed();
        return cid;
    }

    /** Local transactions committed since this engine was opened (a counter for metrics). */
    public long localCommits() {
        return localCommits.get();
    }

    /** Lets the commit store created entries in the form the record already encoded. */
    static void offerCreates(CommitBatch b, ChangeBytes encoded) {
        int entries = encoded.change().entries().size();
        for (int i = 0; i < entries; i++) {
            b.offerEncoding(encoded, i);
        }
    }

    private void committed() {
        feed.signal();
        for (Runnable r : commitListeners) {
            try {
                r.run();
            } catch (RuntimeException e) {
                // The commit is durable by now: throwing would tell its caller it failed, and a
                // caller that retried would write it twice. The listener's owner is told instead.
                LOG.error("a commit listener failed after a durable commit (the commit stands; the listener "
                        + "may have missed it): " + e, e);
            }
        }
    }

    /**
     * Runs {@code listener} after every commit, local or remote (a transport uses it to tell its
     * consumers that changes are available). It must be quick and must not block. If it throws,
     * the failure is logged and the commit still returns normally: it is durable by then.
     *
     * @return closing it removes the listener
     */
    public AutoCloseable addCommitListener(Runnable listener) {
        commitListeners.add(listener);
        return () -> commitListeners.remove(listener);
    }

    // ---- reads

    /** The live, non-conflicted entry with this id; empty when absent, deleted or conflicted. */
    public Optional<Entry> get(String namespace, UUID id) {
        return withStore(s -> {
            Namespace ns = known(s, namespace);
            byte[] key = Keys.entry(namespace, id);
            try (Store.Reading r = s.reading()) {
                byte[] value = r.get(s.entries, key);
                if (value == null) {
                    return Optional.empty();
                }
                Optional<ResolvedEntry> resolved = ResolvedEntry.resolve(WireCodec.state(value), ns.schema().mergeConcurrentCreates());
                if (resolved.isEmpty() || hidden(r, s, key)) {
                    return Optional.empty();
                }
                return Optional.of(entry(namespace, id, resolved.get()));
            }
        });
    }

    /**
     * A page of live, non-conflicted entries in id order, after {@code after} (null: from the
     * start).
     */
    public Page<Entry> list(String namespace, UUID after, int limit) {
        checkLimit(limit);
        return withStore(s -> {
            Namespace ns = known(s, namespace);
            byte[] prefix = Keys.namespacePrefix(namespace);
            List<Entry> items = new ArrayList<>();
            UUID last = null;
            boolean more = false;
            try (Store.Reading reading = s.reading(); RocksIterator it = reading.iterator(s.entries)) {
                for (it.seek(after == null ? prefix : Keys.entry(namespace, after)); it.isValid() && Keys.startsWith(it.key(), prefix); it.next()) {
                    byte[] key = it.key();
                    UUID id = Keys.entryId(key);
                    if (id.equals(after)) {
                        continue;
                    }
                    if (items.size() == limit) {
                        more = true;
                        break;
                    }
                    Optional<ResolvedEntry> r = ResolvedEntry.resolve(WireCodec.state(it.value()), ns.schema().mergeConcurrentCreates());
                    if (r.isPresent() && !hidden(reading, s, key)) {
                        items.add(entry(namespace, id, r.get()));
                        last = id;
                    }
                }
            }
            return new Page<>(items, more ? last : null);
        });
    }

    /** A page of the namespace's conflicted entries, in id order. */
    public Page<ConflictedEntry> conflicts(String namespace, UUID after, int limit) {
        checkLimit(limit);
        return withStore(s -> {
            Namespace ns = known(s, namespace);
            byte[] prefix = Keys.namespacePrefix(namespace);
            List<ConflictedEntry> items = new ArrayList<>();
            UUID last = null;
            boolean more = false;
            try (Store.Reading reading = s.reading(); RocksIterator it = reading.iterator(s.flags)) {
                for (it.seek(after == null ? prefix : Keys.entry(namespace, after)); it.isValid() && Keys.startsWith(it.key(), prefix); it.next()) {
                    UUID id = Keys.entryId(it.key());
                    if (id.equals(after)) {
                        continue;
                    }
                    if (items.size() == limit) {
                        more = true;
                        break;
                    }
                    items.add(conflicted(reading, s, ns, id, WireCodec.flags(it.value())));
                    last = id;
                }
            }
            return new Page<>(items, more ? last : null);
        });
    }

    /** The entry's conflicts, when it has any. */
    public Optional<ConflictedEntry> conflict(String namespace, UUID id) {
        return withStore(s -> {
            Namespace ns = known(s, namespace);
            try (Store.Reading r = s.reading()) {
                byte[] f = r.get(s.flags, Keys.entry(namespace, id));
                return f == null ? Optional.empty() : Optional.of(conflicted(r, s, ns, id, WireCodec.flags(f)));
            }
        });
    }

    /** Whether the id was deleted here (its tombstone not yet reaped). */
    public boolean isDeleted(String namespace, UUID id) {
        return withStore(s -> {
            byte[] v = s.get(s.entries, Keys.entry(namespace, id));
            return v != null && WireCodec.state(v) instanceof EntryState.Tombstone;
        });
    }

    private ConflictedEntry conflicted(Store.Reading r, Store s, Namespace ns, UUID id, ConflictFlags flags) {
        byte[] value = r.get(s.entries, Keys.entry(ns.name(), id));
        Entry owner = null;
        List<Entry> versions = new ArrayList<>();
        if (value != null) {
            Optional<ResolvedEntry> resolved = ResolvedEntry.resolve(WireCodec.state(value), ns.schema().mergeConcurrentCreates());
            if (resolved.isPresent()) {
                owner = entry(ns.name(), id, resolved.get());
                for (Version v : resolved.get().conflicts()) {
                    versions.add(new Entry(ns.name(), id, v.created(), new Attributes(ResolvedEntry.presentValues(v), true)));
                }
            }
        }
        return new ConflictedEntry(ns.name(), id, owner, versions, new ArrayList<>(flags.unique()), flags.invalid());
    }

    /** Uniqueness and validation conflicts hide an entry; an entry conflict does not hide the owner. */
    private static boolean hidden(Store.Reading r, Store s, byte[] key) {
        byte[] f = r.get(s.flags, key);
        if (f == null) {
            return false;
        }
        ConflictFlags flags = WireCodec.flags(f);
        return !flags.unique().isEmpty() || flags.invalid() != null;
    }

    private static Entry entry(String namespace, UUID id, ResolvedEntry r) {
        return new Entry(namespace, id, r.created(), new Attributes(r.attributes(), true));
    }

    private static Namespace known(Store s, String namespace) {
        Namespace ns = s.namespaceMap.get(namespace);
        if (ns == null) {
            throw new UnknownNamespaceException(namespace);
        }
        return ns;
    }

    private static void checkLimit(int limit) {
        if (limit < 1 || limit > 10_000) {
            throw new IllegalArgumentException("page limit must be between 1 and 10000, got " + limit);
        }
    }

    // ---- replication: supplier side

    /**
     * Starts supplying the changes that a consumer with RUV {@code consumerRuv} lacks.
     *
     * @throws RefreshRequiredException when the consumer is behind this node's trimmed changelog,
     *     or when this node itself must be refreshed (it then supplies nobody)
     * @throws SupplierLaggingException when the consumer trimmed changes this node never received:
     *     this node is the stale one, and marks itself as requiring refresh
     */
    public ChangeStream supplyChanges(Ruv consumerRuv, String consumer) {
        return supplyChanges(consumerRuv, consumer, LaggingRule.Evidence.NONE);
    }

    /**
     * The same, with what each side's contact with the rest of the domain says (see
     * {@link LaggingRule}).
     *
     * @throws SplitException each side trimmed changes the other lacks and nothing tells which
     *     was cut off: neither is marked
     */
    public ChangeStream supplyChanges(Ruv consumerRuv, String consumer, LaggingRule.Evidence evidence) {
        ChangeStream stream;
        Store s;
        commitLock.lock();
        try {
            s = openStore();
            checkCanSupply(s, consumerRuv, consumer, evidence);
            if (!s.tryAcquire()) {
                throw new IllegalStateException("store closed while starting to supply");
            }
            stream = new ChangeStream(s, consumerRuv);
        } finally {
            commitLock.unlock();
        }
        return makeDurable(stream, s, stream.snapshotSequence());
    }

    /**
     * Without {@code syncWrites} the last commits may sit in the OS cache, lost by a power cut.
     * Nothing leaves this node before it is on disk: a peer holding a change its origin lost
     * would break that origin's contiguity everywhere. The sync covers the stream's snapshot and
     * runs after the commit lock is released, so local writers never wait for it.
     */
    private <T extends AutoCloseable> T makeDurable(T stream, Store s, long sequence) {
        try {
            syncWal(s, sequence);
            return stream;
        } catch (RuntimeException e) {
            try {
                stream.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** With {@code syncWrites} every commit is already on disk; otherwise sync the WAL up to {@code sequence}. */
    private void syncWal(Store s, long sequence) {
        if (!options.syncWrites()) {
            s.syncWalThrough(sequence);
        }
    }

    private void checkCanSupply(Store s, Ruv consumerRuv, String consumer, LaggingRule.Evidence evidence) {
        if (s.refreshRequired != null) {
            throw new RefreshRequiredException("this node lags and supplies nobody until it is refreshed: " + s.refreshRequired);
        }
        if (consumerRuv.max(s.origin) > s.ruv.max(s.origin)) {
            takeNewOriginOnClaim(s, consumerRuv.max(s.origin), consumer);
        }
        LaggingRule.Decision d = LaggingRule.decide(s.ruv, consumerRuv, consumer, evidence);
        switch (d.verdict()) {
            case SUPPLY -> {
            }
            case CONSUMER_REFRESHES -> throw new RefreshRequiredException(d.reason());
            case SUPPLIER_REFRESHES -> {
                // The rule already required that this node had no exchange with a third node
                // within the window; it is marked only if it had none with this consumer either,
                // so a consumer it has been serving cannot take it out of service by its word.
                java.util.OptionalLong age = contactAgeExcept(null);
                if (age.isPresent() && age.getAsLong() <= options.window().toMillis()) {
                    throw new SplitException("SPLIT: " + d.reason() + "; but this node completed an exchange with consumer '" + consumer
                            + "' " + age.getAsLong() + " ms ago, within the window, so it is not marked on that consumer's word."
                            + " Replication between them stops: an operator chooses which side to keep and refreshes the other from it");
                }
                markRefreshRequired(s, d.reason());
                refreshFrom = consumer;
                throw new SupplierLaggingException(d.reason() + "; it must be refreshed from an up-to-date member");
            }
            case SPLIT -> throw new SplitException(d.reason());
        }
    }

    /**
     * A consumer holds more of this node's own origin than this node does. Honestly, that happens
     * only when this node's disk lost committed changes (a power cut without {@code syncWrites},
     * a copy of an old data directory): going on under the same origin would break its history
     * on every peer. So this node takes a new origin for its future changes, keeps serving, and
     * gets the lost changes back from its peers like any other origin's. The claim is believed
     * only when it could be true (not later than this node's clock allows) and once per window,
     * so a lying consumer can neither take this node out of service nor grow its RUV unboundedly.
     */
    private void takeNewOriginOnClaim(Store s, long claimed, String consumer) {
        long now = clock.nowMillis();
        String claim = "consumer '" + consumer + "' holds changes of this node's own origin " + s.origin + " up to "
                + HybridClock.describe(claimed) + " but this node has them only up to " + HybridClock.describe(s.ruv.max(s.origin));
        if (HybridClock.physicalMillis(claimed) > now + options.maxClockSkew().toMillis()) {
            throw new ImplausibleClaimException(claim + ", later than this node's clock allows (now " + java.time.Instant.ofEpochMilli(now)
                    + ", clock-skew limit " + options.maxClockSkew() + "): no node could have made such a change, so the consumer is refused");
        }
        if (originTakenAt != 0 && now - originTakenAt < options.window().toMillis()) {
            throw new SplitException("SPLIT: " + claim + ", though this node already took a new origin for the same reason "
                    + (now - originTakenAt) + " ms ago: it takes at most one per window, and refuses this consumer. If its disk lost"
                    + " changes again, refresh it from a member (entente refresh --from); otherwise check consumer '" + consumer + "'");
        }
        OriginId fresh;
        synchronized (options.random()) {
            fresh = OriginId.random(options.random());
        }
        OriginId old = s.origin;
        s.takeNewOrigin(fresh);
        originTakenAt = now;
        LOG.warn(claim + ": this node's disk lost committed changes. It takes new origin " + fresh
                + " for its changes; those of " + old + " it lost come back from its peers");
    }

    // ---- replication: consumer side

    /**
     * Applies a supplier's batch atomically: all of its new records, or (on any error) none.
     *
     * @throws ClockSkewException a record is too far in the future
     * @throws ChangeGapException a record's predecessor is missing (batches lost or reordered)
     * @throws MalformedChangeException a record cannot be decoded
     * @throws RefreshRequiredException this node must be refreshed first
     */
    public ApplyResult applyChanges(ChangeBatch batch, String supplier) {
        return applyChanges(prepareChanges(batch, supplier));
    }

    /**
     * Decodes a batch and checks it against the clock-skew limit, without taking the commit lock,
     * so that a transport can prepare the next batch while this one commits.
     *
     * @throws ClockSkewException a record is too far in the future
     * @throws MalformedChangeException a record cannot be decoded
     */
    public PreparedBatch prepareChanges(ChangeBatch batch, String supplier) {
        return ChangeConsumer.prepare(clock, batch, supplier);
    }

    /** Applies a prepared batch atomically: all of its new records, or (on any error) none. */
    public ApplyResult applyChanges(PreparedBatch prepared) {
        String supplier = prepared.supplier();
        ApplyResult r;
        commitLock.lock();
        try {
            // A batch older than what this node reaped is refused, not marked here: the session
            // weighs it as the supplier's word (see markRefreshRequiredOnWordOf).
            r = ChangeConsumer.apply(openStore(), clock, options, prepared);
        } finally {
            commitLock.unlock();
        }
        if (r.applied() > 0) {
            committed();
        }
        return r;
    }

    /**
     * What this node still lacks of a supplier's state, given the RUV the supplier ended its
     * stream with; empty when it has caught up.
     */
    public List<String> missingFrom(Ruv supplierRuv) {
        return ChangeConsumer.missing(store.ruv, supplierRuv);
    }

    /**
     * A supplier says this node must be refreshed: it lacks changes the supplier trimmed, or the
     * supplier sent changes older than what this node reaped. The node is marked (see
     * {@link #markRefreshRequired(String, String)}) only when its own record agrees that it was
     * cut off: no exchange with a node other than {@code supplier} within the window. An honest
     * supplier says so only then (the consumer's pull tells it how long ago that exchange was);
     * a lying or mistaken one cannot take a node that stays in contact with others out of service.
     *
     * @return empty when the node is marked (now or before); otherwise why it was not, for the report
     */
    public Optional<String> markRefreshRequiredOnWordOf(String supplier, String reason) {
        commitLock.lock();
        try {
            Store s = openStore();
            if (s.refreshRequired != null) {
                return Optional.empty();
            }
            java.util.OptionalLong age = contactAgeExcept(supplier);
            if (age.isPresent() && age.getAsLong() <= options.window().toMillis()) {
                return Optional.of("SPLIT: supplier '" + supplier + "' says this node must be refreshed (" + reason + "), but this node completed an"
                        + " exchange with another node " + age.getAsLong() + " ms ago, within the window, so it is not refreshed on one supplier's"
                        + " word. If that supplier is right, an operator refreshes this node from it (entente refresh --from)");
            }
            markRefreshRequired(s, reason);
            refreshFrom = supplier;
            return Optional.empty();
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * Records that a supplier refused this node with {@code REFRESH_REQUIRED}: from now on this
     * node refuses local writes and supplies nobody, until it is refreshed, so that a deleted entry
     * can never come back through it.
     */
    public void markRefreshRequired(String reason) {
        markRefreshRequired(reason, null);
    }

    /**
     * The same, naming the peer whose word it is (see {@link #refreshFrom()}); null when none.
     * A node already marked keeps its first reason and peer.
     */
    public void markRefreshRequired(String reason, String from) {
        commitLock.lock();
        try {
            Store s = openStore();
            if (s.refreshRequired == null) {
                markRefreshRequired(s, reason);
                refreshFrom = from;
            }
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * Takes back a mark this node's operator set for a refresh that never began (its supplier
     * refused to serve), so that a refused request does not leave the node out of service: only
     * when the mark is still the one {@code reason} names and no refresh is importing. Nothing of
     * the store changed, since a refresh imports aside and switches at its end.
     *
     * @return whether the mark was taken back
     */
    public boolean withdrawRefreshRequired(String reason) {
        commitLock.lock();
        try {
            Store s = openStore();
            synchronized (this) {
                if (!reason.equals(s.refreshRequired) || activeImport != null) {
                    return false;
                }
            }
            try (CommitBatch b = new CommitBatch(s)) {
                b.delete(s.meta, Keys.meta(Keys.Meta.REFRESH_REQUIRED));
                b.commit();
            }
            s.refreshRequired = null;
            refreshFrom = null;
            return true;
        } finally {
            commitLock.unlock();
        }
    }

    private static void markRefreshRequired(Store s, String reason) {
        try (CommitBatch b = new CommitBatch(s)) {
            b.put(s.meta, Keys.meta(Keys.Meta.REFRESH_REQUIRED), reason.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            b.commit();
        }
        s.refreshRequired = reason;
    }

    // ---- refresh

    /** Starts streaming a consistent snapshot of this node to a consumer being refreshed. */
    public SnapshotExport exportSnapshot(String consumer) {
        SnapshotExport export;
        Store s;
        commitLock.lock();
        try {
            s = openStore();
            if (s.refreshRequired != null) {
                throw new RefreshRequiredException("this node lags and cannot refresh '" + consumer + "' until it is refreshed itself: " + s.refreshRequired);
            }
            if (!s.tryAcquire()) {
                throw new IllegalStateException("store closed while starting a snapshot");
            }
            export = new SnapshotExport(s);
        } finally {
            commitLock.unlock();
        }
        return makeDurable(export, s, export.snapshotSequence());
    }

    /**
     * Starts replacing this node's content by a snapshot from {@code supplier}. Until
     * {@link SnapshotImport#complete()}, the node keeps working on its current content.
     */
    public SnapshotImport beginRefresh(String supplier) {
        openStore();
        synchronized (this) {
            if (activeImport != null) {
                throw new InvalidWriteException("a refresh from '" + activeImport + "' is already in progress; one refresh at a time");
            }
            activeImport = supplier;
        }
        try {
            return new SnapshotImport(this, supplier, directory.newAside());
        } catch (RuntimeException e) {
            importEnded();
            throw e;
        }
    }

    /** The supplier of the refresh in progress, if any. */
    private String activeImport;

    synchronized void importEnded() {
        activeImport = null;
    }

    boolean isActive(Store s) {
        return store == s;
    }

    Store openAside(Path path, UUID domain) {
        return Store.open(path, options, domain);
    }

    void discardAside(Path path) {
        try {
            DataDirectory.deleteTree(path);
        } catch (java.io.IOException e) {
            throw new StoreException("cannot delete the unfinished store " + path + ": " + e.getMessage() + "; it is deleted at the next start", e);
        }
    }

    /** Makes {@code next} the active store, keeping the node-local feed and cursors going. */
    void switchTo(Store next, long snapshotMaxHlc) {
        commitLock.lock();
        try {
            Store old = openStore();
            if (old == next) {
                throw new IllegalStateException("the refresh was already completed");
            }
            clock.observe(snapshotMaxHlc);
            long resetSequence = old.nextFeedSequence;
            try (CommitBatch b = new CommitBatch(next)) {
                byte[] prefix = Keys.cursorPrefix();
                try (RocksIterator it = old.iterator(old.meta)) {
                    for (it.seek(prefix); it.isValid() && Keys.startsWith(it.key(), prefix); it.next()) {
                        b.put(next.meta, it.key(), it.value());
                    }
                }
                b.put(next.meta, Keys.meta(Keys.Meta.HLC), Keys.longBytes(clock.last()));
                b.put(next.meta, Keys.meta(Keys.Meta.FEED_FLOOR), Keys.longBytes(resetSequence - 1));
                b.put(next.feed, Keys.feed(resetSequence), ChangeFeed.encode(null, false, clock.nowMillis(), List.of()));
                b.commit();
            }
            next.hlc = clock.last();
            next.feedFloor = resetSequence - 1;
            next.nextFeedSequence = resetSequence + 1;
            next.flushAll();
            // Built without the write-ahead log (a refresh's import), and now durable: from here
            // on the node's commits go through the log again.
            next.unlogged(false);
            directory.activate(next.path);
            store = next;
            old.markForDeletion();
            try {
                old.close();
            } catch (RuntimeException e) {
                // The switch is done and durable; the old store is only garbage now.
                LOG.warn("the store replaced by a refresh could not be closed or deleted: "
                        + e.getMessage() + "; it is deleted at the next start", e);
            }
        } finally {
            commitLock.unlock();
        }
        committed();
    }

    // ---- maintenance

    /**
     * Trims changelog records, tombstones and feed events older than the window. Before that, a
     * node whose own origin made no change for half a window commits an anchor (a change that
     * touches nothing), so that every live origin keeps moving: a node cut off longer than the
     * window then always lacks trimmed changes of live origins and is told so, even in a quiet
     * domain. The window is then what it says for every node, busy domain or not: the longest a
     * node can be cut off and still catch up change by change.
     */
    public TrimResult trimWindow() {
        boolean anchored = false;
        commitLock.lock();
        try {
            Store s = openStore();
            long now = clock.nowMillis();
            long windowMillis = options.window().toMillis();
            if (s.refreshRequired == null
                    && HybridClock.physicalMillis(s.ruv.max(s.origin)) < now - windowMillis / 2) {
                commitAnchor(s);
                anchored = true;
            }
            return WindowTrimmer.trim(s, now, windowMillis);
        } finally {
            commitLock.unlock();
            if (anchored) {
                committed();
            }
        }
    }

    /** Commits a change of this node's origin that touches nothing; the caller holds the commit lock. */
    private void commitAnchor(Store s) {
        long hlc = clock.next();
        Change anchor = new Change(new Cid(hlc, s.origin), s.ruv.max(s.origin), List.of(), List.of());
        try (CommitBatch b = new CommitBatch(s)) {
            CommitTail tail = new CommitTail(s, b, clock.nowMillis());
            tail.append(anchor.cid(), WireCodec.encode(anchor, recordWriter).bytes(), true, null);
            tail.commit(hlc);
        }
    }

    /** The logical digest of the replicated state, from a consistent snapshot. */
    public Digest digest() {
        return withStore(DigestCalculator::compute);
    }

    /** RocksDB's estimate of the number of changelog records held (cheap; for metrics). */
    public long changelogRecordsEstimate() {
        return withStore(s -> {
            try {
                return s.db.getLongProperty(s.changelog, "rocksdb.estimate-num-keys");
            } catch (org.rocksdb.RocksDBException e) {
                throw s.fail("estimating the changelog size of", e);
            }
        });
    }

    /** The stored changelog record of a change, while it is inside the window. */
    public Optional<byte[]> changeRecord(Cid cid) {
        return withStore(s -> Optional.ofNullable(s.get(s.changelog, Keys.change(cid.origin(), cid.hlc()))));
    }

    /**
     * Checks the store's replication invariants and returns what is wrong (empty when all hold):
     * for every origin, the changelog holds a contiguous run of its records from just after the
     * RUV's {@code trimmed} to its {@code max}; no record belongs to an origin the RUV does not
     * list; the clock is at or beyond every applied change. Reads the whole changelog.
     */
    public List<String> checkIntegrity() {
        commitLock.lock();
        try {
            return withStore(s -> IntegrityCheck.run(s, clock.last()));
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * Writes a consistent copy of the store into {@code target} (a RocksDB checkpoint: hard links
     * where it can), for an online backup. {@code target} must not exist.
     */
    public void checkpoint(Path target) {
        withStore(s -> {
            try (org.rocksdb.Checkpoint c = org.rocksdb.Checkpoint.create(s.db)) {
                syncWal(s, s.db.getLatestSequenceNumber());
                c.createCheckpoint(target.toString());
            } catch (org.rocksdb.RocksDBException e) {
                throw s.fail("checkpointing into " + target + ", from", e);
            }
            return null;
        });
    }

    /**
     * Gives the store in {@code options.dataDirectory()} a new origin id, for a node restored from
     * a backup: the backup may lack changes the node made after it, which its peers hold, so
     * continuing under the old origin would break that origin's history. The old origin stays in
     * the RUV. The store must not be open.
     *
     * @return the new origin id
     */
    public static OriginId takeNewOrigin(EngineOptions options) {
        try (DataDirectory dir = new DataDirectory(options.dataDirectory());
             Store s = Store.open(dir.active(), options, new UUID(0, 0))) {
            OriginId fresh;
            synchronized (options.random()) {
                fresh = OriginId.random(options.random());
            }
            s.takeNewOrigin(fresh);
            s.flushAll();
            return fresh;
        }
    }

    /** Recomputes the conflict flags of a namespace, after its validator changed. */
    public void revalidate(String namespace) {
        commitLock.lock();
        try {
            Store s = openStore();
            known(s, namespace);
            try (CommitBatch b = new CommitBatch(s)) {
                new EntryWriter(b, s.reapedHorizon, options.validators(), false).rebuildNamespace(namespace, false);
                b.commit();
            }
        } finally {
            commitLock.unlock();
        }
    }

    public ChangeFeed feed() {
        return feed;
    }

    // ---- store access

    <T> T withStore(Function<Store, T> f) {
        while (true) {
            Store s = openStore();
            if (s.tryAcquire()) {
                try {
                    return f.apply(s);
                } finally {
                    s.release();
                }
            }
            if (s == store) {
                throw new IllegalStateException("the store of " + directory.root() + " was closed under the engine");
            }
        }
    }

    private Store openStore() {
        if (closed) {
            throw new IllegalStateException("engine on " + directory.root() + " is closed");
        }
        return store;
    }

    /** Closes the store. Commits in flight finish first; supply sessions still open keep it until they close. */
    @Override
    public void close() {
        commitLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            commitLock.unlock();
        }
        feed.closeAll();
        store.close();
        directory.close();
    }
}
