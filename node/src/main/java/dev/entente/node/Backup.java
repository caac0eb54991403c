package dev.entente.node;

import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.OriginId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Online backup of a node into a tar.gz (a consistent RocksDB checkpoint of its store, its
 * identity, configuration and admin token) and restore into a new data directory, where the
 * node takes a new origin id.
 */
public final class Backup {
    private Backup() {
    }

    /** Writes a backup of the running node to {@code target} (a .tar.gz); returns its size in bytes. */
    public static long create(EntenteNode node, Path target) {
        Path dataDir = node.config().dataDirectory();
        Path staging = target.toAbsolutePath().resolveSibling(target.getFileName() + ".staging");
        Path partial = target.toAbsolutePath().resolveSibling(target.getFileName() + ".partial");
        try {
            delete(staging);
            Files.createDirectories(staging.resolve("data"));
            node.engine().checkpoint(staging.resolve("data").resolve("store-000001"));
            Files.writeString(staging.resolve("data").resolve("STORE"), "store-000001\n");
            copyTree(EntenteNode.identityDirectory(dataDir), staging.resolve("identity"));
            for (String f : new String[] {"node.yaml", "admin.token", "cert.pem"}) {
                if (Files.exists(dataDir.resolve(f))) {
                    Files.copy(dataDir.resolve(f), staging.resolve(f));
                }
            }
            TarGz.pack(staging, partial);
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return Files.size(target);
        } catch (IOException e) {
            throw new IllegalStateException("backup to " + target + " failed: " + e.getMessage() + "; nothing was changed on the node", e);
        } finally {
            try {
                delete(staging);
                Files.deleteIfExists(partial);
            } catch (IOException e) {
                System.getLogger(Backup.class.getName()).log(System.Logger.Level.WARNING, "cannot clean up " + staging + ": " + e.getMessage());
            }
        }
    }

    /**
     * Restores a backup into {@code dataDir}, which must not exist or be empty, and gives the
     * restored store a new origin id.
     *
     * @return the restored node's new origin id
     */
    public static OriginId restore(Path archive, Path dataDir) {
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
            TarGz.unpack(archive, dataDir);
            if (!Files.exists(dataDir.resolve("data").resolve("STORE")) || !Files.exists(EntenteNode.identityDirectory(dataDir))) {
                throw new IllegalStateException(archive + " is not an Entente backup (no data/STORE or identity/ inside)");
            }
            return Engine.takeNewOrigin(EngineOptions.builder(EntenteNode.engineDirectory(dataDir)).build());
        } catch (IOException e) {
            throw new IllegalStateException("restore of " + archive + " into " + dataDir + " failed: " + e.getMessage(), e);
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

    private static void delete(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
