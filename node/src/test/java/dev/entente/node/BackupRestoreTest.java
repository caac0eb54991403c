package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.config.ConfigLoader;
import dev.entente.engine.Attributes;
import dev.entente.engine.Digest;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.Schema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backups through the CLI and the admin API of a running node, and restores into a new directory. */
class BackupRestoreTest {

    @Test
    void aBackupOfARunningNodeRestoresWithANewOriginAndTheSameContent(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        Digest before;
        OriginId oldOrigin;
        try (EntenteNode n = AdminApiTest.node(a, "a", "")) {
            Engine e = n.engine();
            e.transaction().defineNamespace("people", Schema.builder().unique("name").build()).commit();
            for (int i = 0; i < 500; i++) {
                e.create("people", Attributes.ofText("name", "p" + i));
            }
            // the node listens on ephemeral ports: tell the command line the admin port it got
            Files.writeString(a.resolve("node.yaml"), Files.readString(a.resolve("node.yaml"))
                    .replace("listen: 127.0.0.1:0\n  tokenFile", "listen: 127.0.0.1:" + n.adminAddress().getPort() + "\n  tokenFile"));
            String config = a.resolve("node.yaml").toString();
            CliTest.Run status = CliTest.cli("status", "--config", config);
            assertEquals(0, status.code(), status.err());
            assertTrue(status.out().contains("node a") && status.out().contains(e.originId().toString()), status.out());
            CliTest.Run backup = CliTest.cli("backup", "--config", config, "--name", "a.tar.gz");
            assertEquals(0, backup.code(), backup.err());
            assertTrue(backup.out().startsWith("backup written: " + a.resolve("backups/a.tar.gz") + " ("), backup.out());
            Files.move(a.resolve("backups/a.tar.gz"), dir.resolve("a.tar.gz"));
            e.create("people", Attributes.ofText("name", "after-the-backup"));
            before = e.digest();
            oldOrigin = e.originId();
            CliTest.Run sync = CliTest.cli("sync", "--config", config);
            assertEquals(1, sync.code(), "a node without agreements has nothing to sync");
            assertTrue(sync.err().contains("no agreements"), sync.err());
        }
        Path restored = dir.resolve("restored");
        CliTest.Run r = CliTest.cli("restore", "--from", dir.resolve("a.tar.gz").toString(), "--data-dir", restored.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        String newOrigin = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out()).get("origin").asText();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(restored.resolve("identity/key.pem"))));
        try (Engine e = Engine.open(EngineOptions.builder(restored.resolve("data")).build())) {
            assertNotEquals(oldOrigin, e.originId(), "a restored node takes a new origin id");
            assertEquals(newOrigin, e.originId().toString(), "the one restore printed");
            assertTrue(e.ruv().origins().containsKey(oldOrigin), "the old origin stays in the RUV");
            assertEquals(500, e.digest().entries(), "the backup's content, without what came after it");
            assertNotEquals(before, e.digest());
            assertTrue(e.checkIntegrity().isEmpty());
        }
        try (EntenteNode n = EntenteNode.start(ConfigLoader.load(restored.resolve("node.yaml")))) {
            assertEquals(500, n.engine().digest().entries());
        }
        CliTest.Run again = CliTest.cli("restore", "--from", dir.resolve("a.tar.gz").toString(), "--data-dir", restored.toString());
        assertEquals(1, again.code());
        assertTrue(again.err().contains("is not empty"), again.err());
        Files.writeString(dir.resolve("junk.tar.gz"), "not a backup");
        assertEquals(1, CliTest.cli("restore", "--from", dir.resolve("junk.tar.gz").toString(), "--data-dir", dir.resolve("r2").toString()).code());
    }

    private static void tar(Path file, java.util.function.Consumer<org.apache.commons.compress.archivers.tar.TarArchiveOutputStream> body) throws Exception {
        try (var out = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(
                new java.util.zip.GZIPOutputStream(Files.newOutputStream(file)))) {
            body.accept(out);
            out.finish();
        }
    }

    private static void entry(org.apache.commons.compress.archivers.tar.TarArchiveOutputStream out, String name, byte[] content) {
        try {
            var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(name);
            e.setSize(content.length);
            out.putArchiveEntry(e);
            out.write(content);
            out.closeArchiveEntry();
        } catch (java.io.IOException x) {
            throw new java.io.UncheckedIOException(x);
        }
    }

    /** Nothing is left beside the target after a refused restore: no target, no half-restored directory. */
    private static void assertRefusedAndNothingLeft(Path dir, Path archive, String expected, String... extra) throws Exception {
        Path target = dir.resolve("restored-" + archive.getFileName());
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("restore", "--from", archive.toString(), "--data-dir", target.toString()));
        args.addAll(java.util.List.of(extra));
        CliTest.Run r = CliTest.cli(args.toArray(String[]::new));
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(expected) && !r.err().contains("\tat "), r.err());
        assertFalse(Files.exists(target), "no target left");
        try (var list = Files.list(dir)) {
            assertTrue(list.noneMatch(p -> p.getFileName().toString().contains(".restoring-")), "no half-restored directory left");
        }
    }

    @Test
    void restoreRefusesBadArchivesInASentenceAndLeavesNothingBehind(@TempDir Path dir) throws Exception {
        Path truncated = dir.resolve("truncated.tar.gz");
        Path bomb = dir.resolve("bomb.tar.gz");
        Path dot = dir.resolve("dot.tar.gz");
        Path escape = dir.resolve("escape.tar.gz");
        Path link = dir.resolve("link.tar.gz");
        Path corrupt = dir.resolve("corrupt.tar.gz");
        tar(bomb, out -> entry(out, "data/zeros", new byte[3 << 20]));
        tar(dot, out -> entry(out, ".", new byte[] {1}));
        tar(escape, out -> entry(out, "../outside", new byte[] {1}));
        tar(link, out -> {
            try {
                var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("identity", org.apache.commons.compress.archivers.tar.TarConstants.LF_SYMLINK);
                e.setLinkName("/etc");
                out.putArchiveEntry(e);
                out.closeArchiveEntry();
            } catch (java.io.IOException x) {
                throw new java.io.UncheckedIOException(x);
            }
        });
        Path whole = dir.resolve("whole.tar.gz");
        tar(whole, out -> entry(out, "data/file", "x".repeat(5000).getBytes()));
        byte[] bytes = Files.readAllBytes(whole);
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        // A header byte changed, the gzip layer rebuilt: only the tar checksum can tell.
        byte[] raw;
        try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(whole))) {
            raw = in.readAllBytes();
        }
        raw[3] = 'X';
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(corrupt))) {
            out.write(raw);
        }
        assertRefusedAndNothingLeft(dir, truncated, "truncated");
        assertRefusedAndNothingLeft(dir, bomb, "unpacks to more than", "--max-size", "1MiB");
        assertRefusedAndNothingLeft(dir, dot, "would not land inside");
        assertRefusedAndNothingLeft(dir, escape, "would not land inside");
        assertRefusedAndNothingLeft(dir, link, "neither a file nor a directory");
        assertRefusedAndNothingLeft(dir, corrupt, "corrupt");
        assertTrue(Files.notExists(dir.resolve("outside")));
    }

    @Test
    void backupsGoOnlyIntoTheBackupDirectoryOwnerOnlyAndNeverOverAnotherFile(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        Path elsewhere = Files.writeString(dir.resolve("precious.txt"), "keep me");
        try (EntenteNode n = AdminApiTest.node(a, "a", "")) {
            String t = Files.readString(a.resolve("admin.token")).trim();
            AdminApiTest api = new AdminApiTest();
            for (String bad : java.util.List.of("../x.tar.gz", "/etc/x.tar.gz", "sub/x.tar.gz", ".hidden.tar.gz", "x.zip")) {
                AdminApiTest.Reply r = api.call(n, "POST", "/v1/backup", t, "{\"name\": \"" + bad + "\"}");
                assertEquals(400, r.status(), bad + ": " + r.body());
            }
            assertEquals(400, api.call(n, "POST", "/v1/backup", t, "{\"path\": \"/tmp/x.tar.gz\"}").status(), "no paths");
            AdminApiTest.Reply first = api.call(n, "POST", "/v1/backup", t, "{\"name\": \"one.tar.gz\"}");
            assertEquals(200, first.status(), first.body());
            Path one = a.resolve("backups/one.tar.gz");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(one)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(a.resolve("backups"))));
            assertEquals(409, api.call(n, "POST", "/v1/backup", t, "{\"name\": \"one.tar.gz\"}").status(), "no silent replace");
            assertEquals(200, api.call(n, "POST", "/v1/backup", t, "{\"name\": \"one.tar.gz\", \"replace\": true}").status());
            // A link planted under a backup's name: refused without replace, replaced itself (not followed) with it.
            Files.createSymbolicLink(a.resolve("backups/planted.tar.gz"), elsewhere);
            assertEquals(409, api.call(n, "POST", "/v1/backup", t, "{\"name\": \"planted.tar.gz\"}").status());
            assertEquals(200, api.call(n, "POST", "/v1/backup", t, "{\"name\": \"planted.tar.gz\", \"replace\": true}").status());
            assertEquals("keep me", Files.readString(elsewhere), "the link's target is untouched");
            assertFalse(Files.isSymbolicLink(a.resolve("backups/planted.tar.gz")));
            try (var list = Files.list(a.resolve("backups"))) {
                assertEquals(java.util.Set.of("one.tar.gz", "planted.tar.gz"),
                        list.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet()), "nothing staged left behind");
            }
            String audit = Files.readString(a.resolve("audit.log"));
            assertTrue(audit.contains("refused: 409"), "refusals audited");
        }
    }

    @Test
    void scheduledBackupsKeepTheNewestAndHoldThePinnedCertificates(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        CliTest.cli("init", "--data-dir", b.toString(), "--name", "b", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0");
        try (EntenteNode n = AdminApiTest.node(a, "a", "backup:\n  every: 1s\n  keep: 2\n")) {
            Files.writeString(a.resolve("node.yaml"), Files.readString(a.resolve("node.yaml")));
        }
        Files.writeString(a.resolve("node.yaml"), Files.readString(a.resolve("node.yaml"))
                .replace("consumers: []", "consumers:\n    - name: b\n      certificate: " + b.resolve("cert.pem")));
        try (EntenteNode n = EntenteNode.start(ConfigLoader.load(a.resolve("node.yaml")))) {
            Cluster.await("three scheduled backups", java.time.Duration.ofSeconds(15), () -> {
                try {
                    return Files.readString(a.resolve("audit.log")).split("\"action\":\"backup\"", -1).length - 1 >= 3;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
        java.util.List<Path> kept;
        try (var list = Files.list(a.resolve("backups"))) {
            kept = list.filter(p -> p.getFileName().toString().matches("a-\\d{8}T\\d{6}Z\\.tar\\.gz")).sorted().toList();
        }
        assertTrue(kept.size() <= 3 && kept.size() >= 2, "the newest two kept (a third may be written as the node stops): " + kept);
        Path restored = dir.resolve("restored");
        assertEquals(0, CliTest.cli("restore", "--from", kept.get(kept.size() - 1).toString(), "--data-dir", restored.toString()).code());
        assertEquals(Files.readString(b.resolve("cert.pem")), Files.readString(restored.resolve("pinned/consumer-b.pem")),
                "the pinned certificate travels with the backup");
    }
}
