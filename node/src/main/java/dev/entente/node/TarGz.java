package dev.entente.node;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** A small ustar writer and reader for backups: regular files and directories, names up to 100 bytes. */
final class TarGz {
    private TarGz() {
    }

    /** Packs everything below {@code root} into a gzip-compressed tar at {@code target}. */
    static void pack(Path root, Path target) throws IOException {
        try (OutputStream out = new GZIPOutputStream(new BufferedOutputStream(Files.newOutputStream(target)), 1 << 16);
             Stream<Path> walk = Files.walk(root)) {
            List<Path> paths = walk.filter(p -> !p.equals(root)).sorted().toList();
            for (Path p : paths) {
                String name = root.relativize(p).toString().replace('\\', '/');
                boolean dir = Files.isDirectory(p);
                long size = dir ? 0 : Files.size(p);
                out.write(header(dir ? name + "/" : name, size, dir));
                if (!dir) {
                    try (InputStream in = Files.newInputStream(p)) {
                        long copied = in.transferTo(out);
                        if (copied != size) {
                            throw new IOException(p + " changed while it was packed");
                        }
                    }
                    out.write(new byte[(int) ((512 - size % 512) % 512)]);
                }
            }
            out.write(new byte[1024]);
        }
    }

    private static byte[] header(String name, long size, boolean dir) throws IOException {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        if (n.length > 100) {
            throw new IOException("the path '" + name + "' is too long for this backup format (100 bytes at most)");
        }
        byte[] h = new byte[512];
        System.arraycopy(n, 0, h, 0, n.length);
        octal(h, 100, 8, dir ? 0755 : 0600);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, size);
        octal(h, 136, 12, System.currentTimeMillis() / 1000);
        h[156] = (byte) (dir ? '5' : '0');
        System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 6);
        h[263] = '0';
        h[264] = '0';
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xFF;
        }
        octal(h, 148, 7, sum);
        h[155] = ' ';
        return h;
    }

    private static void octal(byte[] h, int at, int length, long value) {
        String s = String.format("%0" + (length - 1) + "o", value);
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, at, length - 1);
        h[at + length - 1] = 0;
    }

    /** Unpacks a backup into {@code target}, refusing entries that would land outside it. */
    static void unpack(Path archive, Path target) throws IOException {
        Path root = target.toAbsolutePath().normalize();
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(archive)), 1 << 16)) {
            byte[] h = new byte[512];
            while (true) {
                if (in.readNBytes(h, 0, 512) < 512) {
                    throw new IOException(archive + " ends in the middle of an entry: the backup is truncated");
                }
                if (isZero(h)) {
                    return;
                }
                int len = 0;
                while (len < 100 && h[len] != 0) {
                    len++;
                }
                String name = new String(h, 0, len, StandardCharsets.UTF_8);
                long size = Long.parseLong(new String(h, 124, 11, StandardCharsets.US_ASCII).trim(), 8);
                Path out = root.resolve(name).normalize();
                if (!out.startsWith(root) || name.startsWith("/")) {
                    throw new IOException(archive + " holds the entry '" + name + "', which would land outside " + root + ": it is not an Entente backup");
                }
                if (h[156] == '5') {
                    Files.createDirectories(out);
                    continue;
                }
                Files.createDirectories(out.getParent());
                int mode = Integer.parseInt(new String(h, 100, 7, StandardCharsets.US_ASCII).trim(), 8);
                try (OutputStream o = Files.newOutputStream(out)) {
                    long left = size;
                    byte[] buf = new byte[1 << 16];
                    while (left > 0) {
                        int r = in.read(buf, 0, (int) Math.min(buf.length, left));
                        if (r < 0) {
                            throw new IOException(archive + " ends in the middle of " + name + ": the backup is truncated");
                        }
                        o.write(buf, 0, r);
                        left -= r;
                    }
                }
                in.skipNBytes((512 - size % 512) % 512);
                if (java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                    // Backups hold the node's private key: keep files readable by their owner only.
                    Files.setPosixFilePermissions(out, java.nio.file.attribute.PosixFilePermissions.fromString(
                            (mode & 0400) != 0 ? (mode & 0200) != 0 ? "rw-------" : "r--------" : "---------"));
                }
            }
        }
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
