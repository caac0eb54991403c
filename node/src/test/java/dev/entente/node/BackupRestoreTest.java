package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.config.ConfigLoader;
import dev.entente.engine.Attributes;
import dev.entente.engine.Digest;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.OriginId;
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
            CliTest.Run backup = CliTest.cli("backup", "--config", config, "--to", dir.resolve("a.tar.gz").toString());
            assertEquals(0, backup.code(), backup.err());
            assertTrue(backup.out().contains("\"bytes\""), backup.out());
            e.create("people", Attributes.ofText("name", "after-the-backup"));
            before = e.digest();
            oldOrigin = e.originId();
            CliTest.Run sync = CliTest.cli("sync", "--config", config);
            assertEquals(1, sync.code(), "a node without agreements has nothing to sync");
            assertTrue(sync.err().contains("no agreements"), sync.err());
        }
        Path restored = dir.resolve("restored");
        CliTest.Run r = CliTest.cli("restore", "--from", dir.resolve("a.tar.gz").toString(), "--data-dir", restored.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(restored.resolve("identity/key.pem"))));
        try (Engine e = Engine.open(EngineOptions.builder(restored.resolve("data")).build())) {
            assertNotEquals(oldOrigin, e.originId(), "a restored node takes a new origin id");
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
}
