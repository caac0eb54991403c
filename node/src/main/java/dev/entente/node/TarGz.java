package dev.entente.node;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Backups as gzip-compressed tar (commons-compress): regular files and directories only. Reading
 * takes nothing on trust: header checksums are verified, names must stay inside the target
 * (no absolute path, no {@code ..}, no {@code .}), links and devices are refused, and the total
 * size unpacked is capped, so a truncated, corrupt or hostile archive ends in one sentence.
 */
final class TarGz {
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    private TarGz() {
    }

    /**
     * Packs everything below {@code root} into {@code target}, an existing file this process
     * created (truncated, never followed if a link), telling {@code packed} of each run of bytes
     * of the files it has read.
     */
    static void pack(Path root, Path target, java.util.function.LongConsumer packed) throws IOException {
        try (OutputStream file = Files.newOutputStream(target, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(new BufferedOutputStream(file), 1 << 16));
             Stream<Path> walk = Files.walk(root)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            List<Path> paths = walk.filter(p -> !p.equals(root)).sorted().toList();
            for (Path p : paths) {
                String name = root.relativize(p).toString().replace('\\', '/');
                boolean dir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                TarArchiveEntry e = new TarArchiveEntry(dir ? name + "/" : name);
                e.setMode(dir ? 040700 : 0100600);
                if (!dir) {
                    e.setSize(Files.size(p));
                }
                tar.putArchiveEntry(e);
                if (!dir) {
                    try (InputStream in = Files.newInputStream(p)) {
                        long copied = copy(in, tar, packed);
                        if (copied != e.getSize()) {
                            throw new IOException(p + " changed while it was packed");
                        }
                    }
                }
                tar.closeArchiveEntry();
            }
            tar.finish();
        }
    }

    private static long copy(InputStream in, OutputStream out, java.util.function.LongConsumer copied) throws IOException {
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        for (int n; (n = in.read(buffer)) >= 0; ) {
            out.write(buffer, 0, n);
            total += n;
            copied.accept(n);
        }
        return total;
    }

    /**
     * Unpacks {@code archive} into {@code target}, a new empty directory: files owner-only, never
     * through a link, at most {@code maxBytes} in all; tells {@code read} of each run of bytes of
     * the archive (compressed) it has read.
     */
    static void unpack(Path archive, Path target, long maxBytes, java.util.function.LongConsumer read) throws IOException {
        Path root = target.toAbsolutePath().normalize();
        long total = 0;
        InputStream file = new java.io.FilterInputStream(Files.newInputStream(archive)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) {
                    read.accept(n);
                }
                return n;
            }
        };
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(new BufferedInputStream(file), 1 << 16))) {
            TarArchiveEntry e;
            while ((e = nextEntry(tar, archive)) != null) {
                String name = e.getName();
                if (!e.isCheckSumOK()) {
                    throw new IOException(archive + " is corrupt: the header of '" + name + "' fails its checksum");
                }
                boolean special = e.isSymbolicLink() || e.isLink() || e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO();
                if (special || !e.isDirectory() && !e.isFile()) {
                    throw new IOException(archive + " holds '" + name + "', which is neither a file nor a directory (a link or a device): it is not an Entente backup");
                }
                String clean = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
                Path out = root.resolve(clean).normalize();
                boolean dotted = List.of(clean.split("/")).stream().anyMatch(s -> s.equals(".") || s.equals("..") || s.isEmpty());
                if (clean.startsWith("/") || dotted || !out.startsWith(root) || out.equals(root)) {
                    throw new IOException(archive + " holds the entry '" + name + "', which would not land inside " + root + ": it is not an Entente backup");
                }
                if (e.isDirectory()) {
                    createDirectories(root, out);
                    continue;
                }
                createDirectories(root, out.getParent());
                if (e.getSize() < 0 || total + e.getSize() > maxBytes) {
                    throw new IOException(archive + " unpacks to more than " + maxBytes + " bytes (at '" + name + "'): refused; if it is a real backup,"
                            + " give a larger --max-size");
                }
                try (OutputStream o = Files.newOutputStream(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                    if (POSIX) {
                        Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rw-------"));
                    }
                    long copied = tar.transferTo(o);
                    if (copied != e.getSize()) {
                        throw new IOException(archive + " ends in the middle of '" + name + "': the backup is truncated");
                    }
                    total += copied;
                }
            }
        } catch (java.io.EOFException ex) {
            throw new IOException(archive + " ends in the middle of an entry: the backup is truncated", ex);
        }
    }

    private static TarArchiveEntry nextEntry(TarArchiveInputStream tar, Path archive) throws IOException {
        try {
            return tar.getNextEntry();
        } catch (IllegalArgumentException e) {
            // A header field that is not a number, say.
            throw new IOException(archive + " is corrupt: " + e.getMessage(), e);
        }
    }

    private static void createDirectories(Path root, Path dir) throws IOException {
        Files.createDirectories(dir);
        if (POSIX) {
            for (Path p = dir; p != null && p.startsWith(root) && !p.equals(root); p = p.getParent()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
            }
        }
    }
}
