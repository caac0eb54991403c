package dev.entente.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution the build makes works away from the build tree: unpacked into an empty
 * directory, its {@code bin/entente} makes a node, runs it, talks to it and stops it, as the
 * operations guide says.
 */
class DistributionTest {
    @Test
    void theUnpackedDistributionMakesRunsAndStopsANode(@TempDir Path dir) throws Exception {
        Path archive = archive();
        Path home = dir.resolve("opt");
        unpack(archive, home);
        Path top;
        try (Stream<Path> s = Files.list(home)) {
            top = s.findFirst().orElseThrow();
        }
        Path entente = top.resolve("bin/entente");
        assertTrue(Files.isExecutable(entente), "bin/entente is executable");
        assertTrue(Files.isRegularFile(top.resolve("systemd/entente@.service")) && Files.isRegularFile(top.resolve("docs/operations.md"))
                && Files.isRegularFile(top.resolve("LICENSE")), "the unit, the docs and the licence come along");
        try (Stream<Path> libs = Files.list(top.resolve("lib"))) {
            List<String> names = libs.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.startsWith("rocksdbjni-") && n.endsWith("-linux64.jar"))
                    && names.stream().noneMatch(n -> n.matches("rocksdbjni-[0-9.]+\\.jar")), "this platform's RocksDB only: " + names);
        }

        Run version = run(dir, entente, "--version");
        assertEquals(0, version.code(), version.out());
        assertTrue(version.out().startsWith("entente 0."), version.out());

        int admin = LoopbackPorts.free(p -> false);
        Path site = dir.resolve("site");
        Run init = run(dir, entente, "init", "--data-dir", site.toString(), "--name", "dist", "--new-domain", "--listen", "127.0.0.1:0",
                "--admin-listen", "127.0.0.1:" + admin);
        assertEquals(0, init.code(), init.out());

        Process node = process(dir, entente, "node", "--config", site.resolve("node.yaml").toString()).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
            StringBuilder seen = new StringBuilder();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String line;
            while ((line = out.readLine()) != null && !line.contains("replicating on")) {
                seen.append(line).append('\n');
                assertTrue(System.nanoTime() < deadline, "the node did not start within 60 s:\n" + seen);
            }
            assertTrue(line != null, "the node ended before it started:\n" + seen);
            // The node goes on logging to its stdout: keep reading it, so it never blocks on a full pipe.
            Thread drain = new Thread(() -> {
                try {
                    out.transferTo(java.io.Writer.nullWriter());
                } catch (IOException closed) {
                    // the node ended
                }
            }, "drain");
            drain.setDaemon(true);
            drain.start();
            Run status = run(dir, entente, "status", "--config", site.resolve("node.yaml").toString());
            assertEquals(0, status.code(), status.out());
            assertTrue(status.out().startsWith("node dist "), status.out());
            node.destroy();
            assertTrue(node.waitFor(60, TimeUnit.SECONDS), "the node stops on SIGTERM");
            assertEquals(0, node.exitValue(), "a stop asked for is a success");
        } finally {
            node.destroyForcibly();
        }
    }

    record Run(int code, String out) {
    }

    private static ProcessBuilder process(Path cwd, Path entente, String... args) {
        List<String> command = new ArrayList<>(List.of(entente.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true);
        // The Java running this test, found as an installed one is: through JAVA_HOME.
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("ENTENTE_JAVA_OPTS", "-Xmx256m");
        return pb;
    }

    private static Run run(Path cwd, Path entente, String... args) throws Exception {
        Process p = process(cwd, entente, args).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "entente " + String.join(" ", args) + " ended");
        return new Run(p.exitValue(), out);
    }

    /** The archive the node module's build made (the reactor builds it before this module's tests). */
    private static Path archive() throws IOException {
        Path target = Path.of("..", "node", "target").toAbsolutePath().normalize();
        try (Stream<Path> s = Files.list(target)) {
            return s.filter(p -> p.getFileName().toString().matches("entente-.*-linux-x86_64\\.tar\\.gz")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no distribution in " + target + ": build the node module first (mvn install)"));
        }
    }

    private static void unpack(Path archive, Path into) throws IOException {
        try (InputStream in = Files.newInputStream(archive);
             TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(in))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                Path to = into.resolve(e.getName()).normalize();
                assertTrue(to.startsWith(into), "an entry stays inside: " + e.getName());
                if (e.isDirectory()) {
                    Files.createDirectories(to);
                    continue;
                }
                Files.createDirectories(to.getParent());
                Files.copy(tar, to);
                Files.setPosixFilePermissions(to, permissions(e.getMode()));
            }
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = new HashSet<>();
        PosixFilePermission[] bits = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(bits[i]);
            }
        }
        return s;
    }
}
