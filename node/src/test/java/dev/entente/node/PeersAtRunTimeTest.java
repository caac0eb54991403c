package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.entente.config.ConfigLoader;
import dev.entente.engine.Attributes;
import dev.entente.engine.Schema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A site joins a running domain without a restart anywhere: the running node pins the new one
 * and pulls from it, over its REST API and its command line; the changes are audited, kept
 * across a restart (peers.json, node.yaml untouched), and an agreement whose supplier cannot be
 * reached, shows another certificate, or does not pin this node is refused with nothing added.
 */
class PeersAtRunTimeTest {
    private final AdminApiTest api = new AdminApiTest();

    @Test
    void aFourthSiteIsAddedWhileTheOthersRunAndTheChangeOutlivesARestart(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        Path d = dir.resolve("d");
        int adminA = free();
        CliTest.cli("init", "--data-dir", a.toString(), "--name", "a", "--new-domain", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:" + adminA);
        CliTest.cli("init", "--data-dir", d.toString(), "--name", "d", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0");
        String yamlA = Files.readString(a.resolve("node.yaml"));
        String configA = a.resolve("node.yaml").toString();
        EntenteNode na = EntenteNode.start(ConfigLoader.load(a.resolve("node.yaml")));
        try {
            String ta = Files.readString(a.resolve("admin.token")).trim();
            na.engine().transaction().defineNamespace("people", Schema.EMPTY).commit();
            UUID early = na.engine().create("people", Attributes.ofText("name", "written on a before d came"));

            // One command on a: pin d.
            CliTest.Run pin = CliTest.cli("consumer", "add", "--config", configA, "--name", "d", "--certificate", d.resolve("cert.pem").toString());
            assertEquals(0, pin.code(), pin.err());
            assertTrue(pin.out().contains("consumer 'd' pinned") && pin.out().contains("run time"), pin.out());

            // d, new, joins a's domain through its own agreement, and pins a so that a may pull back.
            Files.writeString(d.resolve("node.yaml"), Files.readString(d.resolve("node.yaml"))
                    .replace("consumers: []", "consumers:\n    - name: a\n      certificate: " + a.resolve("cert.pem"))
                    .replace("agreements: []", "agreements:\n  - name: from-a\n    supplier: 127.0.0.1:" + na.replication().address().getPort()
                            + "\n    certificate: " + a.resolve("cert.pem") + "\n    interval: 1s\n"));
            try (EntenteNode nd = EntenteNode.start(ConfigLoader.load(d.resolve("node.yaml")))) {
                Cluster.await("d to join", Duration.ofSeconds(30), () -> nd.engine().refreshRequired().isEmpty());
                assertTrue(nd.engine().get("people", early).isPresent());

                // The second command on a: pull from d.
                CliTest.Run agree = CliTest.cli("agreement", "add", "--config", configA, "--name", "from-d", "--supplier",
                        "127.0.0.1:" + nd.replication().address().getPort(), "--certificate", d.resolve("cert.pem").toString(), "--interval", "1s");
                assertEquals(0, agree.code(), agree.err());
                UUID fromD = nd.engine().create("people", Attributes.ofText("name", "written on d"));
                Cluster.await("a to pull d's write", Duration.ofSeconds(30), () -> na.engine().get("people", fromD).isPresent());

                // Refused, nothing added: the wrong certificate, an address nobody serves.
                AdminApiTest.Reply wrongKey = api.call(na, "POST", "/v1/peers/agreements", ta, "{\"name\": \"from-d-again\", \"supplier\": \"127.0.0.1:"
                        + nd.replication().address().getPort() + "\", \"certificate\": " + Cli.json(Files.readString(a.resolve("cert.pem"))) + "}");
                assertEquals(502, wrongKey.status(), wrongKey.body());
                AdminApiTest.Reply nobody = api.call(na, "POST", "/v1/peers/agreements", ta, "{\"name\": \"from-nowhere\", \"supplier\": \"127.0.0.1:"
                        + free() + "\", \"certificate\": " + Cli.json(Files.readString(d.resolve("cert.pem"))) + "}");
                assertEquals(502, nobody.status(), nobody.body());
                assertTrue(nobody.json().get("detail").asText().contains("from-nowhere"), nobody.body());
                JsonNode peers = api.call(na, "GET", "/v1/peers", ta, null).json();
                assertEquals(1, peers.get("agreements").size(), "nothing added by a refused request: " + peers);
                AdminApiTest.Reply twice = api.call(na, "POST", "/v1/peers/consumers", ta, "{\"name\": \"d\", \"certificate\": "
                        + Cli.json(Files.readString(d.resolve("cert.pem"))) + "}");
                assertEquals(409, twice.status(), twice.body());
            }
            String audit = Files.readString(a.resolve("audit.log"));
            assertTrue(audit.contains("\"action\":\"add-consumer\"") && audit.contains("\"action\":\"add-agreement\"") && audit.contains("refused"), audit);
        } finally {
            na.close();
        }
        assertEquals(yamlA, Files.readString(a.resolve("node.yaml")), "node.yaml is left as its author wrote it");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(a.resolve("peers.json"))));

        // A restart keeps the pin and the agreement; removing them is kept too.
        try (EntenteNode again = EntenteNode.start(ConfigLoader.load(a.resolve("node.yaml")))) {
            assertEquals(1, again.config().consumers().size());
            assertEquals("from-d", again.replication().status().get(0).name());
            CliTest.Run backup = CliTest.cli("backup", "--config", configA, "--name", "with-peers.tar.gz");
            assertEquals(0, backup.code(), backup.err());
            java.util.List<String> names = new java.util.ArrayList<>();
            try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
                    new org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream(Files.newInputStream(a.resolve("backups/with-peers.tar.gz"))))) {
                for (var e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                    names.add(e.getName());
                }
            }
            assertTrue(names.stream().anyMatch(n -> n.endsWith("peers.json")) && names.stream().anyMatch(n -> n.endsWith("pinned/consumer-d.pem")),
                    "a backup holds the peers changed at run time and their certificates: " + names);
            CliTest.Run unpin = CliTest.cli("consumer", "remove", "--config", configA, "--name", "d");
            assertEquals(0, unpin.code(), unpin.err());
            CliTest.Run drop = CliTest.cli("agreement", "remove", "--config", configA, "--name", "from-d");
            assertEquals(0, drop.code(), drop.err());
            assertTrue(again.replication().status().isEmpty());
            CliTest.Run missing = CliTest.cli("agreement", "remove", "--config", configA, "--name", "from-d");
            assertEquals(1, missing.code());
            assertTrue(missing.err().contains("no agreement named 'from-d'"), missing.err());
        }
        try (EntenteNode third = EntenteNode.start(ConfigLoader.load(a.resolve("node.yaml")))) {
            assertTrue(third.config().consumers().isEmpty() && third.replication().status().isEmpty(), "the removals were kept");
            assertFalse(third.replication().consumers().stream().anyMatch(c -> c.name().equals("d")));
        }
    }

    private static int free() throws Exception {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
