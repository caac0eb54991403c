package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.entente.config.ConfigLoader;
import dev.entente.engine.Attributes;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.Schema;
import dev.entente.engine.StoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose disk fills, on a small tmpfs this test mounts (it needs root, as CI has): writes are
 * refused with a clear error, reads go on, health says why, nothing committed is lost, and the
 * node writes again by itself once space returns.
 */
class DiskFullTest {

    private static boolean run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }

    @Test
    void aFullDiskRefusesWritesKeepsReadsAndCommittedDataAndRecoversWhenSpaceReturns(@TempDir Path dir) throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounting a tmpfs needs root");
        Path disk = Files.createDirectories(dir.resolve("disk"));
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", disk.toString()), "cannot mount a tmpfs here");
        try {
            Path a = disk.resolve("a");
            CliTest.cli("init", "--data-dir", a.toString(), "--name", "a", "--new-domain", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0");
            Files.writeString(a.resolve("node.yaml"), Files.readString(a.resolve("node.yaml")) + "engine:\n  writeBuffer: 1MiB\n  blockCache: 1MiB\n");
            List<UUID> acknowledged = new ArrayList<>();
            Path filler = disk.resolve("filler");
            try (EntenteNode n = EntenteNode.start(ConfigLoader.load(a.resolve("node.yaml")))) {
                Engine e = n.engine();
                e.transaction().defineNamespace("people", Schema.builder().build()).commit();
                String t = Files.readString(a.resolve("admin.token")).trim();
                AdminApiTest api = new AdminApiTest();
                // Fill the disk but a little, then write until the store refuses.
                long free = Files.getFileStore(disk).getUsableSpace();
                try (var out = Files.newOutputStream(filler)) {
                    byte[] mb = new byte[1 << 20];
                    for (long i = 0; i < free / (1 << 20) - 6; i++) {
                        out.write(mb);
                    }
                }
                String value = "x".repeat(64_000);
                StoreException refused = null;
                for (int i = 0; i < 2000 && refused == null; i++) {
                    try {
                        acknowledged.add(e.create("people", Attributes.ofText("name", "p" + i, "blob", value)));
                    } catch (StoreException x) {
                        refused = x;
                    }
                }
                assertTrue(refused != null, "the disk filled");
                assertTrue(refused.getMessage().contains("disk is full"), refused.getMessage());
                assertTrue(e.get("people", acknowledged.get(0)).isPresent(), "reads go on");
                AdminApiTest.Reply write = api.call(n, "POST", "/v1/namespaces/people/entries", t, "{\"attrs\": {\"name\": \"more\"}}");
                assertEquals(503, write.status(), write.body());
                AdminApiTest.Reply health = api.call(n, "GET", "/_status/check", null, null);
                assertEquals(503, health.status(), health.body());
                assertTrue(health.body().contains("disk is full"), health.body());

                Files.delete(filler);
                Cluster.await("writes to work again once space returns", Duration.ofSeconds(30), () -> {
                    try {
                        acknowledged.add(e.create("people", Attributes.ofText("name", "after-" + UUID.randomUUID())));
                        return true;
                    } catch (StoreException x) {
                        return false;
                    }
                });
                assertEquals(200, api.call(n, "GET", "/_status/check", null, null).status(), "health recovered");
            }
            try (Engine e = Engine.open(EngineOptions.builder(a.resolve("data")).build())) {
                for (UUID id : acknowledged) {
                    assertTrue(e.get("people", id).isPresent(), "acknowledged " + id + " survives");
                }
                assertTrue(e.checkIntegrity().isEmpty());
            }
        } finally {
            run("umount", disk.toString());
        }
    }
}
