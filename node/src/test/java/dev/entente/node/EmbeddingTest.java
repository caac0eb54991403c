package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.config.ConfigBuilder;
import dev.entente.config.ConfigException;
import dev.entente.config.ConfigExport;
import dev.entente.config.ConfigLoader;
import dev.entente.config.NodeConfig;
import dev.entente.engine.Attributes;
import dev.entente.engine.Schema;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a server that embeds a node needs beyond the file-driven node: a configuration built in
 * code (checked as a file is), a node that joins an existing domain in one call, and no admin
 * server of its own.
 */
class EmbeddingTest {
    private static final String TOKEN = "an-admin-token-long-enough";

    @Test
    void aConfigurationBuiltInCodeIsTheOneTheSameFileWouldGiveAndIsCheckedTheSameWay(@TempDir Path dir) throws Exception {
        String pem = NodeIdentity.create(dir.resolve("peer"), "peer", NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC()).certificatePem();
        Path data = dir.resolve("node");
        NodeConfig built = ConfigBuilder.node("node-1", data).listen("127.0.0.1:7400").consumer("peer", pem)
                .agreement("from-peer", "127.0.0.1:7401", pem).admin("127.0.0.1:7480", TOKEN)
                .setting("engine.window", "14d").setting("agreements[0].interval", "1s").setting("admin.maxConnections", 99).build();
        String indented = pem.strip().replace("\n", "\n      ");
        NodeConfig read = ConfigLoader.parse("""
                name: node-1
                dataDirectory: .
                replication:
                  listen: 127.0.0.1:7400
                  consumers:
                    - name: peer
                      certificate: |
                        %s
                agreements:
                  - name: from-peer
                    supplier: 127.0.0.1:7401
                    certificate: |
                      %s
                    interval: 1s
                admin:
                  listen: 127.0.0.1:7480
                  token: %s
                  maxConnections: 99
                engine:
                  window: 14d
                """.formatted(pem.strip().replace("\n", "\n        "), indented, TOKEN), true, data, "node.yaml");
        assertEquals(ConfigExport.json(read), ConfigExport.json(built));
        assertEquals(ConfigExport.hash(read), ConfigExport.hash(built));

        ConfigException bad = assertThrows(ConfigException.class, () -> ConfigBuilder.node("node 1", data).listen("nowhere")
                .agreement("a", "127.0.0.1:1", "not a certificate").setting("engine.syncWrites", "yes").build());
        String m = bad.getMessage();
        assertTrue(m.contains("name") && m.contains("replication.listen") && m.contains("agreements[0].certificate") && m.contains("engine.syncWrites")
                && m.contains("admin.tokenFile"), "every problem, with its path: " + m);
        assertThrows(IllegalArgumentException.class, () -> ConfigBuilder.node("n", data).setting("agreements[3].interval", "1s"));
    }

    @Test
    void aNodeJoinsADomainInOneCallOnceAndRunsWithoutAnAdminServer(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        String pemA = NodeIdentity.create(EntenteNode.identityDirectory(a), "a", NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC()).certificatePem();
        String pemB = NodeIdentity.create(EntenteNode.identityDirectory(b), "b", NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC()).certificatePem();
        NodeConfig configA = ConfigBuilder.node("a", a).listen("127.0.0.1:0").consumer("b", pemB).adminOff().build();
        try (EntenteNode na = EntenteNode.start(configA)) {
            assertNull(na.adminAddress(), "no admin server");
            na.engine().transaction().defineNamespace("people", Schema.EMPTY).commit();
            UUID before = na.engine().create("people", Attributes.ofText("name", "written before b joined"));
            NodeConfig configB = ConfigBuilder.node("b", b).listen("127.0.0.1:0")
                    .agreement("from-a", "127.0.0.1:" + na.replication().address().getPort(), pemA).setting("agreements[0].interval", "1s")
                    .adminOff().build();
            try (EntenteNode nb = EntenteNode.join(configB)) {
                Cluster.await("b to join a's domain", Duration.ofSeconds(30), () -> nb.engine().refreshRequired().isEmpty());
                assertEquals(na.engine().domainId(), nb.engine().domainId());
                assertTrue(nb.engine().get("people", before).isPresent());
            }
            UUID later = na.engine().create("people", Attributes.ofText("name", "written while b was down"));
            try (EntenteNode nb = EntenteNode.join(configB)) {
                assertTrue(nb.engine().refreshRequired().isEmpty(), "a node that joined before just starts");
                Cluster.await("b to catch up", Duration.ofSeconds(30), () -> nb.engine().get("people", later).isPresent());
                assertEquals(0, nb.replication().status().get(0).refreshes(), "by pulling, not by a refresh");
            }
        }
        NodeConfig alone = ConfigBuilder.node("c", dir.resolve("c")).listen("127.0.0.1:0").adminOff().build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EntenteNode.join(alone));
        assertTrue(e.getMessage().contains("agreement"), e.getMessage());
    }
}
