package dev.entente.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The layout of a data directory: one or more RocksDB stores ({@code store-000001}, ...) and the
 * {@code STORE} file naming the active one. A refresh builds a new store beside the active one and
 * switches the pointer with an atomic rename, so a refresh cut off halfway leaves the old store
 * active and the half-built one is deleted at the next open.
 */
final class DataDirectory implements AutoCloseable {
    private static final String POINTER = "STORE";
    private static final String PREFIX = "store-";

    private final Path root;
    private final FileChannel lockChannel;
    private final FileLock lock;

    DataDirectory(Path root) {
        this.root = root;
        try {
            Files.createDirectories(root);
            lockChannel = FileChannel.open(root.resolve("LOCK"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null;
            }
            if (l == null) {
                lockChannel.close();
                throw new StoreException("data directory " + root + " is in use by another engine or process: stop it first, or use another directory", null);
            }
            lock = l;
        } catch (IOException e) {
            throw new StoreException("cannot open data directory " + root + ": " + e.getMessage()
                    + ". Check that the path is a writable directory", e);
        }
    }

    Path root() {
        return root;
    }

    /** The active store; a fresh directory gets {@code store-000001}. */
    Path active() {
        Path pointer = root.resolve(POINTER);
        try {
            if (!Files.exists(pointer)) {
                Path first = root.resolve(PREFIX + "000001");
                activate(first);
                return first;
            }
            String name = Files.readString(pointer, StandardCharsets.UTF_8).trim();
            if (!name.startsWith(PREFIX) || name.contains("/")) {
                throw new StoreException("the STORE file in " + root + " is corrupt (contains '" + name
                        + "'); it should name the active store directory, such as store-000001", null);
            }
            return root.resolve(name);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + pointer, e);
        }
    }

    /** A new, empty directory for a store being built aside, created here so no one else gets it. */
    synchronized Path newAside() {
        int max = 0;
        try (DirectoryStream<Path> stores = Files.newDirectoryStream(root, PREFIX + "*")) {
            for (Path p : stores) {
                max = Math.max(max, number(p));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the stores in " + root, e);
        }
        for (int n = max + 1; ; n++) {
            Path aside = root.resolve(String.format("%s%06d", PREFIX, n));
            try {
                return Files.createDirectory(aside);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // Taken meanwhile: try the next number.
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a new store in " + root, e);
            }
        }
    }

    /** Makes {@code store} the active one: write, fsync, atomic rename, fsync the directory. */
    void activate(Path store) {
        Path pointer = root.resolve(POINTER);
        Path tmp = root.resolve(POINTER + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(StandardCharsets.UTF_8.encode(store.getFileName().toString() + "\n"));
                ch.force(true);
            }
            try {
                Files.move(tmp, pointer, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new StoreException("the file system of " + root + " cannot rename atomically; put the data directory on a local file system", e);
            }
            try (FileChannel dir = FileChannel.open(root, StandardOpenOption.READ)) {
                dir.force(true);
            } catch (IOException ignoredOnSomePlatforms) {
                // Some platforms cannot fsync a directory; the rename itself is atomic there.
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot switch the active store of " + root + " to " + store, e);
        }
    }

    /** Deletes every store directory but the active one (leftovers of interrupted refreshes). */
    void removeInactive() {
        Path active = active();
        try (DirectoryStream<Path> stores = Files.newDirectoryStream(root, PREFIX + "*")) {
            for (Path p : stores) {
                if (!p.equals(active)) {
                    deleteTree(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean up old stores in " + root, e);
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    private static int number(Path store) {
        try {
            return Integer.parseInt(store.getFileName().toString().substring(PREFIX.length()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release the lock of " + root, e);
        }
    }
}
