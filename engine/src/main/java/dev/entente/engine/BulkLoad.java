package dev.entente.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.EnvOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.SstFileWriter;

/**
 * Fills one column family of a store built aside from keys that arrive in ascending order (a
 * refresh's entries and changelog records, in the order the supplier's iterators read them):
 * they are written into sorted files beside the store and ingested at the end, so they never go
 * through the memtable, the write-ahead log, flushes or compactions. That write path was most of
 * the CPU a refresh cost the new node (RocksDB's background threads beside the import itself).
 *
 * <p>A key not greater than the one before is a malformed snapshot, refused with the supplier's
 * name before the file writer sees it.
 */
final class BulkLoad implements AutoCloseable {
    /** Files of about the store's target file size, so that later compactions rewrite one at a time. */
    private static final long FILE_BYTES = 64L << 20;

    private final Store store;
    private final ColumnFamilyHandle family;
    private final String what;
    private final Path dir;
    private final EnvOptions env = new EnvOptions();
    private final List<Path> files = new ArrayList<>();
    private SstFileWriter writer;
    private byte[] lastKey;
    private long count;

    /**
     * @param what what the keys are and where from, for errors: "entries of the snapshot from 'a'"
     * @param dir a directory inside the store being built, for the files until they are ingested
     */
    BulkLoad(Store store, ColumnFamilyHandle family, String what, Path dir) {
        this.store = store;
        this.family = family;
        this.what = what;
        this.dir = dir;
    }

    void put(byte[] key, byte[] value) {
        if (lastKey != null && Arrays.compareUnsigned(key, lastKey) <= 0) {
            throw new MalformedChangeException("the " + what + " arrived out of order (a key repeated or went back): the snapshot is malformed");
        }
        try {
            if (writer == null) {
                Files.createDirectories(dir);
                Path file = dir.resolve(String.format("%06d.sst", files.size() + 1));
                writer = store.sortedFileWriter(env);
                writer.open(file.toString());
                files.add(file);
            }
            writer.put(key, value);
            if (writer.fileSize() >= FILE_BYTES) {
                finishFile();
            }
        } catch (RocksDBException e) {
            throw store.fail("writing the " + what + " into a sorted file for", e);
        } catch (java.io.IOException e) {
            throw new StoreException("cannot create " + dir + " for the " + what + ": " + e.getMessage(), e);
        }
        lastKey = key;
        count++;
    }

    /** How many keys were put. */
    long count() {
        return count;
    }

    /** Finishes the last file and moves every file into the column family. */
    void ingest() {
        try {
            finishFile();
        } catch (RocksDBException e) {
            throw store.fail("finishing the sorted file of the " + what + " for", e);
        }
        if (!files.isEmpty()) {
            store.ingest(family, files);
        }
        try {
            // The files were moved into the store: their directory is empty.
            Files.deleteIfExists(dir);
        } catch (java.io.IOException e) {
            org.slf4j.LoggerFactory.getLogger(BulkLoad.class).warn("cannot delete the empty directory " + dir + " after ingesting the " + what
                    + ": " + e.getMessage() + "; it is harmless and may be deleted by hand");
        }
    }

    private void finishFile() throws RocksDBException {
        if (writer != null) {
            try {
                writer.finish();
            } finally {
                writer.close();
                writer = null;
            }
        }
    }

    /** Drops a file left unfinished (an import abandoned): the directory goes with the store built aside. */
    @Override
    public void close() {
        if (writer != null) {
            writer.close();
            writer = null;
        }
        env.close();
    }
}
