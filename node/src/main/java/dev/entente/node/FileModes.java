package dev.entente.node;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Owner-only files and directories: a node's data directory holds its private key, its token and
 * every replicated value, so nobody but its owner should read it. On a file system without POSIX
 * permissions these do nothing.
 */
final class FileModes {
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    private FileModes() {
    }

    /** Makes {@code dir} (created if missing) readable by its owner only: 0700. */
    static void ownerOnlyDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        if (POSIX) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
    }

    /** Creates {@code file} owner-only (0600) if it is missing, so it is never readable by others, even briefly. */
    static void createOwnerOnly(Path file) throws IOException {
        if (POSIX && !Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
    }

    /** Whether anyone but the owner may read {@code file}; false where permissions are not POSIX. */
    static boolean readableByOthers(Path file) {
        if (!POSIX) {
            return false;
        }
        try {
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
            return p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ);
        } catch (IOException e) {
            return false;
        }
    }
}
