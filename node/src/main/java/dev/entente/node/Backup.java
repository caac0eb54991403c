package dev.entente.node;

import dev.entente.config.NodeConfig;
import dev.entente.config.RuntimePeers;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.Progress;
import dev.entente.engine.clock.OriginId;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Online backup of a node into a tar.gz (a consistent RocksDB checkpoint of its store, its
 * identity, configuration, admin token and the certificates its configuration pins) and restore
 * into a new data directory, where the node takes a new origin id.
 *
 * <p>Backups go only into the configured backup directory, under a plain file name: staged in a
 * directory of their own there, written to a new owner-only file, and put in place with a hard
 * link, which never replaces an existing file unless asked and never follows a link.
 */
public final class Backup {
    /** A backup's file name: no directory, no dot first, ending in {@code .tar.gz}. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\\.tar\\.gz");
    /** Names of scheduled backups, which retention may delete: {@code <node>-<UTC time>.tar.gz}. */
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private Backup() {
    }

    /** What a backup wrote. */
    public record Result(Path file, long bytes) {
    }

    /** A backup being written, as status shows it: the checkpoint's bytes packed of all of them. */
    static final class Running {
        final String name;
        private final long startNanos = System.nanoTime();
        private volatile long total;
        private final java.util.concurrent.atomic.AtomicLong packed = new java.util.concurrent.atomic.AtomicLong();

        Running(String name) {
            this.name = name;
        }

        Progress progress() {
            return new Progress("bytes", packed.get(), total, packed.get(), java.time.Duration.ofNanos(System.nanoTime() - startNanos));
        }
    }

    /** The name of a backup taken now, when none is given. */
    static String defaultName(String node, Instant now) {
        return node + "-" + STAMP.format(now) + ".tar.gz";
    }

    /**
     * Writes a backup of the running node to {@code name} in its backup directory.
     *
     * @param replace whether an existing backup of that name may be replaced
     * @throws IllegalArgumentException the name is not a plain backup file name
     * @throws FileExistsException a backup of that name exists and {@code replace} is false
     */
    public static Result create(EntenteNode node, String name, boolean replace) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("'" + name + "' is not a backup file name: give a plain name ending in .tar.gz (letters, digits, _ . -),"
                    + " written to the backup directory (backup.directory)");
        }
        Path dir = node.config().backup().directory();
        Path target = dir.resolve(name);
        Path dataDir = node.config().dataDirectory();
        Path staging = null;
        Path partial = null;
        Running running = new Running(name);
        node.runningBackups().add(running);
        try {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                FileModes.ownerOnlyDirectory(dir);
            }
            if (!replace && Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new FileExistsException(target);
            }
            staging = Files.createTempDirectory(dir, ".staging-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.createDirectories(staging.resolve("data"));
            node.engine().checkpoint(staging.resolve("data").resolve("store-000001"));
            Files.writeString(staging.resolve("data").resolve("STORE"), "store-000001\n");
            copyTree(EntenteNode.identityDirectory(dataDir), staging.resolve("identity"));
            for (String f : new String[] {"node.yaml", "admin.token", "cert.pem", RuntimePeers.FILE}) {
                if (Files.exists(dataDir.resolve(f))) {
                    Files.copy(dataDir.resolve(f), staging.resolve(f));
                }
            }
            // The certificates the configuration pins, which may live outside the data directory:
            // a restore on another machine needs them (pinned/ in the archive).
            Path pinned = Files.createDirectories(staging.resolve("pinned"));
            for (NodeConfig.Peer p : node.config().consumers()) {
                Files.writeString(pinned.resolve("consumer-" + p.name() + ".pem"), p.certificatePem());
            }
            for (NodeConfig.AgreementConfig a : node.config().agreements()) {
                Files.writeString(pinned.resolve("agreement-" + a.name().replaceAll("[^A-Za-z0-9_.-]", "_") + ".pem"), a.certificatePem());
            }
            running.total = size(staging);
            partial = Files.createTempFile(dir, ".partial-", ".tar.gz", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            TarGz.pack(staging, partial, running.packed::addAndGet);
            if (replace) {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else {
                try {
                    // A hard link fails if the name exists, where a rename would replace it.
                    Files.createLink(target, partial);
                } catch (FileAlreadyExistsException e) {
                    throw new FileExistsException(target);
                }
            }
            return new Result(target, Files.size(target));
        } catch (IOException e) {
            throw new IllegalStateException("backup to " + target + " failed: " + e.getMessage() + "; nothing was changed on the node", e);
        } finally {
            node.runningBackups().remove(running);
            cleanUp(staging, partial);
        }
    }

    private static long size(Path tree) throws IOException {
        try (Stream<Path> walk = Files.walk(tree)) {
            long total = 0;
            for (Path p : walk.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).toList()) {
                total += Files.size(p);
            }
            return total;
        }
    }

    /** A backup of that name exists and may not be replaced. */
    public static final class FileExistsException extends IllegalStateException {
        FileExistsException(Path target) {
            super("a backup named " + target.getFileName() + " exists in " + target.getParent() + ": choose another name, or ask to replace it");
        }
    }

    /**
     * Deletes the oldest backups this node took on its schedule ({@code <node>-<time>.tar.gz} in
     * its backup directory) beyond the newest {@code keep}; returns those deleted.
     */
    static List<Path> prune(Path dir, String node, int keep) throws IOException {
        if (keep <= 0 || !Files.isDirectory(dir)) {
            return List.of();
        }
        Pattern mine = Pattern.compile(Pattern.quote(node) + "-\\d{8}T\\d{6}Z\\.tar\\.gz");
        List<Path> scheduled;
        try (Stream<Path> s = Files.list(dir)) {
            scheduled = s.filter(p -> mine.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
        List<Path> deleted = new ArrayList<>();
        for (int i = 0; i < scheduled.size() - keep; i++) {
            Files.delete(scheduled.get(i));
            deleted.add(scheduled.get(i));
        }
        return deleted;
    }

    /**
     * Restores a backup into {@code dataDir}, which must not exist or be empty, and gives the
     * restored store a new origin id. The archive is unpacked into a new directory beside it and
     * renamed into place at the end: a failure leaves nothing behind.
     *
     * @param maxBytes the most the archive may unpack to
     * @param read told of each run of bytes of the archive read
     * @return the restored node's new origin id
     */
    public static OriginId restore(Path archive, Path dataDir, long maxBytes, java.util.function.LongConsumer read) {
        Path aside = null;
        try {
            if (Files.exists(dataDir)) {
                try (Stream<Path> s = Files.list(dataDir)) {
                    if (s.findAny().isPresent()) {
                        throw new IllegalStateException(dataDir + " is not empty: restore into a new directory");
                    }
                }
            }
            if (!Files.isRegularFile(archive)) {
                throw new IllegalStateException("no backup at " + archive);
            }
            Path parent = dataDir.toAbsolutePath().normalize().getParent();
            Files.createDirectories(parent);
            aside = Files.createTempDirectory(parent, "." + dataDir.getFileName() + ".restoring-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            TarGz.unpack(archive, aside, maxBytes, read);
            if (!Files.exists(aside.resolve("data").resolve("STORE")) || !Files.exists(EntenteNode.identityDirectory(aside))) {
                throw new IllegalStateException(archive + " is not an Entente backup (no data/STORE or identity/ inside)");
            }
            OriginId origin = Engine.takeNewOrigin(EngineOptions.builder(EntenteNode.engineDirectory(aside)).build());
            Files.deleteIfExists(dataDir);
            Files.move(aside, dataDir, StandardCopyOption.ATOMIC_MOVE);
            aside = null;
            return origin;
        } catch (IOException e) {
            throw new IllegalStateException("restore of " + archive + " into " + dataDir + " failed: " + e.getMessage() + "; nothing was written to "
                    + dataDir, e);
        } finally {
            cleanUp(aside, null);
        }
    }

    private static void cleanUp(Path dir, Path file) {
        try {
            if (dir != null) {
                delete(dir);
            }
            if (file != null) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            org.slf4j.LoggerFactory.getLogger(Backup.class).warn("cannot clean up " + (dir != null ? dir : file) + ": " + e.getMessage());
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    /** Deletes a tree this process created; links inside are deleted, never followed. */
    private static void delete(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
