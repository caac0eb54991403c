package dev.entente.engine;

import dev.entente.engine.clock.OriginId;
import dev.entente.protocol.Ids;
import dev.entente.protocol.Wire;
import com.google.protobuf.InvalidProtocolBufferException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Status;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * One open RocksDB store and the metadata cached from it.
 *
 * <p>Column families: {@code default} (node metadata, RUV), {@code entries} (entry states),
 * {@code changelog} (records by origin and hlc), {@code namespaces}, {@code unique} (the index of
 * unique attribute values), {@code flags} (derived conflict flags), {@code reap} (tombstones and
 * discards by age) and {@code feed} (the change feed).
 *
 * <p>The cached fields are written only under the engine's commit lock and published through
 * volatile fields holding immutable values. A store is reference-counted: a refresh swaps in a
 * new one while readers and supply sessions may still hold the old, which closes when the last
 * of them lets go.
 */
final class Store implements AutoCloseable {
    static final int FORMAT = 1;
    /**
     * Table files RocksDB keeps open at once (it reopens others as it reads them): with two stores
     * open during a refresh, the store's descriptors stay within what a node keeps aside for them.
     */
    static final int MAX_OPEN_FILES = 200;

    final Path path;
    final RocksDB db;
    final ColumnFamilyHandle meta;
    final ColumnFamilyHandle entries;
    final ColumnFamilyHandle changelog;
    final ColumnFamilyHandle namespaces;
    final ColumnFamilyHandle unique;
    final ColumnFamilyHandle flags;
    final ColumnFamilyHandle reap;
    final ColumnFamilyHandle feed;
    final WriteOptions writeOptions;
    private final List<AutoCloseable> resources;
    private final AtomicInteger refs = new AtomicInteger(1);
    private final long writeBufferBytes;
    /** The options of the column families, for sorted files written outside the store and ingested ({@link BulkLoad}). */
    private final org.rocksdb.Options fileOptions;
    /** Writes without the write-ahead log, for a store being built aside: see {@link #unlogged}. */
    private final WriteOptions unloggedOptions;
    private boolean unlogged;

    /** Changes only under the engine's commit lock (see {@link #takeNewOrigin}). */
    volatile OriginId origin;
    final UUID domain;
    volatile Ruv ruv;
    volatile SortedMap<String, Namespace> namespaceMap;
    volatile long hlc;
    volatile long nextFeedSequence;
    volatile long feedFloor;
    volatile long reapedHorizon;
    volatile String refreshRequired;
    /** Every write up to this sequence number is synced to disk (see {@link #syncWalThrough}). */
    private volatile long durableSequence = -1;
    private final Object walSync = new Object();
    private static final long SLOW_SYNC_MILLIS = 100;

    static {
        RocksDB.loadLibrary();
    }

    private Store(Path path, RocksDB db, List<ColumnFamilyHandle> handles, WriteOptions writeOptions, List<AutoCloseable> resources,
                  long writeBufferBytes, org.rocksdb.Options fileOptions, WriteOptions unloggedOptions) {
        this.path = path;
        this.writeBufferBytes = writeBufferBytes;
        this.fileOptions = fileOptions;
        this.unloggedOptions = unloggedOptions;
        this.db = db;
        this.meta = handles.get(0);
        this.entries = handles.get(1);
        this.changelog = handles.get(2);
        this.namespaces = handles.get(3);
        this.unique = handles.get(4);
        this.flags = handles.get(5);
        this.reap = handles.get(6);
        this.feed = handles.get(7);
        this.writeOptions = writeOptions;
        this.resources = resources;
        try {
            byte[] format = db.get(meta, Keys.meta(Keys.Meta.FORMAT));
            if (format == null) {
                throw new IllegalStateException("store at " + path + " was not initialised");
            }
            if (Keys.bytesLong(format) != FORMAT) {
                throw new StoreException("store at " + path + " has format " + Keys.bytesLong(format) + " but this version reads format "
                        + FORMAT + ": run the Entente version that wrote it, or refresh this node from a member", null);
            }
            origin = OriginId.fromBytes(db.get(meta, Keys.meta(Keys.Meta.ORIGIN)));
            domain = Keys.uuid(db.get(meta, Keys.meta(Keys.Meta.DOMAIN)));
            hlc = longMeta(Keys.Meta.HLC, 0);
            feedFloor = longMeta(Keys.Meta.FEED_FLOOR, 0);
            reapedHorizon = longMeta(Keys.Meta.REAPED_HORIZON, 0);
            byte[] rr = db.get(meta, Keys.meta(Keys.Meta.REFRESH_REQUIRED));
            refreshRequired = rr == null ? null : new String(rr, StandardCharsets.UTF_8);
            ruv = loadRuv();
            namespaceMap = loadNamespaces();
            nextFeedSequence = Math.max(lastFeedSequence(), feedFloor) + 1;
        } catch (RocksDBException e) {
            close();
            throw fail("reading metadata", e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Opens (creating when missing) the store at {@code path}. A new store gets a new origin id and
     * the given domain id.
     */
    static Store open(Path path, EngineOptions options, UUID domainForNewStore) {
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            LRUCache cache = new LRUCache(options.blockCacheBytes());
            resources.add(cache);
            BloomFilter bloom = new BloomFilter(10);
            resources.add(bloom);
            BlockBasedTableConfig table = new BlockBasedTableConfig().setBlockCache(cache).setFilterPolicy(bloom)
                    .setBlockSize(16 * 1024);
            ColumnFamilyOptions cfOptions = new ColumnFamilyOptions().setTableFormatConfig(table)
                    .setWriteBufferSize(options.writeBufferBytes()).setCompressionType(CompressionType.LZ4_COMPRESSION)
                    .setLevelCompactionDynamicLevelBytes(true);
            resources.add(cfOptions);
            // The column families a commit looks keys up in get a bloom filter over the memtable
            // too: most of those lookups are misses (new entry ids, new unique values), which it
            // answers without a skiplist search. 2% of the memtable is enough (more costs commit
            // CPU and finds no more misses; the measurements are in docs/bench-runs/history.md);
            // the column families that are only scanned get none.
            ColumnFamilyOptions lookedUp = new ColumnFamilyOptions(cfOptions).setMemtablePrefixBloomSizeRatio(0.02)
                    .setMemtableWholeKeyFiltering(true);
            resources.add(lookedUp);
            DBOptions dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                    .setMaxBackgroundJobs(2).setKeepLogFileNum(3).setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
                    .setBytesPerSync(1 << 20).setMaxOpenFiles(MAX_OPEN_FILES);
            resources.add(dbOptions);
            org.rocksdb.Options fileOptions = new org.rocksdb.Options(dbOptions, cfOptions);
            resources.add(fileOptions);
            List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
            descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions));
            for (String name : List.of("entries", "changelog", "namespaces", "unique", "flags", "reap", "feed")) {
                boolean commitLooksUp = name.equals("entries") || name.equals("unique") || name.equals("flags");
                descriptors.add(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.UTF_8), commitLooksUp ? lookedUp : cfOptions));
            }
            List<ColumnFamilyHandle> handles = new ArrayList<>();
            java.nio.file.Files.createDirectories(path);
            RocksDB db = RocksDB.open(dbOptions, path.toString(), descriptors, handles);
            List<AutoCloseable> closeFirst = new ArrayList<>(handles);
            closeFirst.add(db);
            closeFirst.addAll(resources);
            WriteOptions wo = new WriteOptions().setSync(options.syncWrites());
            closeFirst.add(0, wo);
            if (db.get(handles.get(0), Keys.meta(Keys.Meta.FORMAT)) == null) {
                initialise(db, handles.get(0), options.random(), domainForNewStore);
            }
            WriteOptions unlogged = new WriteOptions().setDisableWAL(true);
            closeFirst.add(0, unlogged);
            return new Store(path, db, handles, wo, closeFirst, options.writeBufferBytes(), fileOptions, unlogged);
        } catch (RocksDBException e) {
            closeAll(resources);
            throw fail(path, "opening the store", e);
        } catch (java.io.IOException e) {
            closeAll(resources);
            throw new StoreException("cannot create " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Makes {@code fresh} this store's origin for its future changes; the old one stays in the
     * RUV with the changes it made. The caller holds the commit lock.
     */
    void takeNewOrigin(OriginId fresh) {
        try (CommitBatch b = new CommitBatch(this)) {
            b.put(meta, Keys.meta(Keys.Meta.ORIGIN), fresh.toBytes());
            b.commit();
        }
        origin = fresh;
    }

    private static void initialise(RocksDB db, ColumnFamilyHandle meta, RandomGenerator random, UUID domain) throws RocksDBException {
        OriginId origin;
        synchronized (random) {
            origin = OriginId.random(random);
        }
        try (WriteBatch b = new WriteBatch(); WriteOptions sync = new WriteOptions().setSync(true)) {
            b.put(meta, Keys.meta(Keys.Meta.ORIGIN), origin.toBytes());
            b.put(meta, Keys.meta(Keys.Meta.DOMAIN), Ids.bytes(domain));
            b.put(meta, Keys.meta(Keys.Meta.FORMAT), Keys.longBytes(FORMAT));
            db.write(sync, b);
        }
    }

    private long longMeta(Keys.Meta name, long absent) throws RocksDBException {
        byte[] v = db.get(meta, Keys.meta(name));
        return v == null ? absent : Keys.bytesLong(v);
    }

    private Ruv loadRuv() {
        TreeMap<OriginId, Ruv.Range> origins = new TreeMap<>();
        byte[] prefix = Keys.ruvPrefix();
        try (RocksIterator it = db.newIterator(meta)) {
            for (it.seek(prefix); it.isValid() && Keys.startsWith(it.key(), prefix); it.next()) {
                byte[] v = it.value();
                origins.put(Keys.ruvOrigin(it.key()), new Ruv.Range(Keys.bytesLong(v), java.nio.ByteBuffer.wrap(v, 8, 8).getLong()));
            }
        }
        return new Ruv(origins);
    }

    private SortedMap<String, Namespace> loadNamespaces() {
        TreeMap<String, Namespace> m = new TreeMap<>();
        try (RocksIterator it = db.newIterator(namespaces)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                try {
                    Namespace ns = WireCodec.namespace(Wire.NamespaceState.parseFrom(it.value()), null);
                    m.put(ns.name(), ns);
                } catch (InvalidProtocolBufferException e) {
                    throw new StoreException("namespace record in " + path + " is corrupt: " + e.getMessage(), e);
                }
            }
        }
        return Collections.unmodifiableSortedMap(m);
    }

    private long lastFeedSequence() {
        try (RocksIterator it = db.newIterator(feed)) {
            it.seekToLast();
            return it.isValid() ? Keys.feedSequence(it.key()) : 0;
        }
    }

    static byte[] ruvValue(Ruv.Range r) {
        return java.nio.ByteBuffer.allocate(16).putLong(r.max()).putLong(r.trimmed()).array();
    }

    // ---- access

    byte[] get(ColumnFamilyHandle cf, byte[] key) {
        try {
            return db.get(cf, key);
        } catch (RocksDBException e) {
            throw fail("reading", e);
        }
    }

    /** Why commits fail, while they do (a full disk, say); null once one succeeds. */
    volatile StoreFailure writeFailure;

    /**
     * Writes from now on without the write-ahead log ({@code true}), or with it again. Only for a
     * store built aside by a refresh: if the process dies, that store is deleted at the next
     * start, and {@link #flushAll} makes what it holds durable before it becomes the node's.
     */
    void unlogged(boolean on) {
        unlogged = on;
    }

    /** A writer of a sorted file with this store's table options (block size, bloom filter, compression). */
    org.rocksdb.SstFileWriter sortedFileWriter(org.rocksdb.EnvOptions env) {
        return new org.rocksdb.SstFileWriter(env, fileOptions);
    }

    /** Moves sorted files into a column family that holds none of their keys yet (they land on the last level). */
    void ingest(ColumnFamilyHandle cf, List<Path> files) {
        try (org.rocksdb.IngestExternalFileOptions o = new org.rocksdb.IngestExternalFileOptions().setMoveFiles(true)) {
            db.ingestExternalFile(cf, files.stream().map(Path::toString).toList(), o);
        } catch (RocksDBException e) {
            throw fail("ingesting the sorted files of", e);
        }
    }

    void write(WriteBatch batch) {
        try {
            db.write(unlogged ? unloggedOptions : writeOptions, batch);
            if (writeFailure != null) {
                writeFailure = null;
            }
        } catch (RocksDBException e) {
            StoreException failure = fail("committing", e);
            StoreFailure before = writeFailure;
            boolean full = isNoSpace(e) || volumeNearlyFull();
            // Once space returns, RocksDB gets its full time to resume before the failure counts
            // as stuck: the clock starts again when the disk stops being full.
            boolean startsAgain = before == null || before.diskFull() && !full;
            writeFailure = new StoreFailure(failure.getMessage(), full, startsAgain ? java.time.Instant.now() : before.since());
            throw failure;
        }
    }

    /**
     * RocksDB's estimate of the keys in a column family, for a refresh's progress; 0 when it cannot
     * tell (an estimate that fails must not fail the refresh it describes).
     */
    long estimatedKeys(org.rocksdb.ColumnFamilyHandle family) {
        try {
            return Math.max(0, db.getLongProperty(family, "rocksdb.estimate-num-keys"));
        } catch (RocksDBException e) {
            return 0;
        }
    }

    /** Background errors counted so far, as last checked by the engine's store probe. */
    volatile long backgroundErrorsSeen;

    /** How many background errors (failed flushes, compactions, WAL writes) RocksDB has counted since it opened. */
    long backgroundErrors() {
        try {
            return db.getLongProperty("rocksdb.background-errors");
        } catch (RocksDBException e) {
            // A store that cannot answer a property counts as failing: the probe write finds out.
            return backgroundErrorsSeen + 1;
        }
    }

    /**
     * Whether the store's volume has too little space left for RocksDB to go on: less than four
     * write buffers and 64 MiB, or 10% of the volume on a small one. After a write failed for lack
     * of space, RocksDB reports later failures as the writer's "previous error", with no word of
     * space: the volume says what the error does not.
     */
    boolean volumeNearlyFull() {
        try {
            java.nio.file.FileStore volume = java.nio.file.Files.getFileStore(path);
            long enough = Math.min(4 * writeBufferBytes + (64L << 20), volume.getTotalSpace() / 10);
            return volume.getUsableSpace() < enough;
        } catch (java.io.IOException e) {
            // A volume that cannot say how full it is: the error's own words decide.
            return false;
        }
    }

    private static boolean isNoSpace(RocksDBException e) {
        String detail = detail(e);
        return detail != null && (detail.contains("No space") || detail.contains("ENOSPC"));
    }

    private static String detail(RocksDBException e) {
        Status s = e.getStatus();
        return s == null ? e.getMessage() : s.getCodeString() + ": " + s.getState();
    }

    RocksIterator iterator(ColumnFamilyHandle cf) {
        return db.newIterator(cf);
    }

    RocksIterator iterator(ColumnFamilyHandle cf, ReadOptions options) {
        return db.newIterator(cf, options);
    }

    /** Reads from one consistent snapshot, so that an entry and its flags agree. */
    final class Reading implements AutoCloseable {
        private final org.rocksdb.Snapshot snapshot = db.getSnapshot();
        private final ReadOptions options = new ReadOptions().setSnapshot(snapshot);

        byte[] get(ColumnFamilyHandle cf, byte[] key) {
            try {
                return db.get(cf, options, key);
            } catch (RocksDBException e) {
                throw fail("reading", e);
            }
        }

        RocksIterator iterator(ColumnFamilyHandle cf) {
            return db.newIterator(cf, options);
        }

        @Override
        public void close() {
            options.close();
            db.releaseSnapshot(snapshot);
        }
    }

    Reading reading() {
        return new Reading();
    }

    /** Makes everything written so far durable in the SST files, for a store about to be switched to. */
    void flushAll() {
        try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
            db.flush(fo, List.of(meta, entries, changelog, namespaces, unique, flags, reap, feed));
            db.flushWal(true);
        } catch (RocksDBException e) {
            throw fail("flushing", e);
        }
    }

    StoreException fail(String action, RocksDBException e) {
        return fail(path, action, e);
    }

    static StoreException fail(Path path, String action, RocksDBException e) {
        Status s = e.getStatus();
        String detail = detail(e);
        String advice;
        if (isNoSpace(e)) {
            advice = "the disk is full: free space on the volume of " + path + " and retry; committed data is intact and nothing of this operation was written";
        } else if (detail != null && detail.contains("lock")) {
            advice = "another process holds the store open: stop it first";
        } else if (s != null && s.getCode() == Status.Code.Corruption) {
            advice = "the store is corrupt: restore it from a backup or refresh this node from a member";
        } else {
            advice = "nothing of this operation was written; check the disk and permissions of " + path;
        }
        return new StoreException(action + " the store at " + path + " failed (" + detail + "): " + advice, e);
    }

    // ---- reference counting

    boolean tryAcquire() {
        while (true) {
            int r = refs.get();
            if (r == 0) {
                return false;
            }
            if (refs.compareAndSet(r, r + 1)) {
                return true;
            }
        }
    }

    void release() {
        if (refs.decrementAndGet() == 0) {
            closeAll(resources);
            if (deleteOnClose) {
                try {
                    DataDirectory.deleteTree(path);
                } catch (java.io.IOException e) {
                    throw new StoreException("cannot delete the replaced store " + path + ": " + e.getMessage()
                            + "; it is deleted at the next start", e);
                }
            }
        }
    }

    private volatile boolean deleteOnClose;

    /** Deletes the store's directory once it is closed: it was replaced, or never completed. */
    void markForDeletion() {
        deleteOnClose = true;
    }

    /**
     * Makes every write up to {@code sequence} durable (an fsync of the write-ahead log), unless a
     * sync since then already did. Concurrent callers share one sync: sessions starting together
     * pay for one fsync, and nothing is synced when nothing was written since the last one.
     */
    void syncWalThrough(long sequence) {
        if (durableSequence >= sequence) {
            return;
        }
        synchronized (walSync) {
            if (durableSequence >= sequence) {
                return;
            }
            // Read before syncing: every write visible at this sequence has its WAL record written,
            // so the sync below covers it.
            long latest = db.getLatestSequenceNumber();
            long t0 = System.nanoTime();
            try {
                db.flushWal(true);
            } catch (RocksDBException e) {
                throw fail("syncing the write-ahead log of", e);
            }
            long millis = (System.nanoTime() - t0) / 1_000_000;
            if (millis >= SLOW_SYNC_MILLIS) {
                org.slf4j.LoggerFactory.getLogger(Store.class).warn("syncing the write-ahead log of " + path + " took "
                        + millis + " ms; replication waits for it before sending (a slow or busy disk)");
            }
            durableSequence = latest;
        }
    }

    /** Drops the engine's own reference; the store closes once the last holder releases it. */
    @Override
    public void close() {
        release();
    }

    private static void closeAll(List<AutoCloseable> resources) {
        RuntimeException first = null;
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                if (first == null) {
                    first = new StoreException("closing the store failed: " + e.getMessage(), e);
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
