package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.entente.config.ConfigBuilder;
import dev.entente.config.NodeConfig;
import dev.entente.engine.Attributes;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.Schema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An entry conflict (two nodes created the same id) over the REST API: listed with its versions
 * and their full CIDs, resolved by discarding one; and the status's recent sessions.
 */
class ConflictResolutionTest {
    private static final String TOKEN = "conflict-test-token-0123456789";
    private final AdminApiTest api = new AdminApiTest();

    @Test
    void aConflictIsListedWithItsVersionsAndDiscardingOneResolvesIt(@TempDir Path dir) throws Exception {
        String pemA = NodeIdentity.create(EntenteNode.identityDirectory(dir.resolve("a")), "a", NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC()).certificatePem();
        String pemB = NodeIdentity.create(EntenteNode.identityDirectory(dir.resolve("b")), "b", NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC()).certificatePem();
        try (EntenteNode a = EntenteNode.start(ConfigBuilder.node("a", dir.resolve("a")).listen("127.0.0.1:0").consumer("b", pemB).adminOff().build())) {
            a.engine().transaction().defineNamespace("people", Schema.EMPTY).commit();
            NodeConfig configB = ConfigBuilder.node("b", dir.resolve("b")).listen("127.0.0.1:0")
                    .agreement("from-a", "127.0.0.1:" + a.replication().address().getPort(), pemA).setting("agreements[0].interval", "1s")
                    .admin("127.0.0.1:0", TOKEN).build();
            try (EntenteNode b = EntenteNode.join(configB)) {
                Cluster.await("b to join", Duration.ofSeconds(30), () -> b.engine().refreshRequired().isEmpty());
            }
            // The same id created on both while b is down: b's own write, made on its store directly.
            UUID id = UUID.randomUUID();
            a.engine().transaction().create("people", id, Attributes.ofText("name", "written on a")).commit();
            Thread.sleep(5);
            try (Engine offline = Engine.open(EngineOptions.builder(EntenteNode.engineDirectory(dir.resolve("b"))).build())) {
                offline.transaction().create("people", id, Attributes.ofText("name", "written on b")).commit();
            }
            try (EntenteNode b = EntenteNode.join(configB)) {
                Cluster.await("b to pull a's version", Duration.ofSeconds(30), () -> !b.engine().conflicts("people", null, 10).items().isEmpty());
                JsonNode conflicts = api.call(b, "GET", "/v1/namespaces/people/entries?conflicts=true", TOKEN, null).json();
                assertEquals(id.toString(), conflicts.at("/items/0/id").asText(), conflicts.toString());
                JsonNode version = conflicts.at("/items/0/conflictVersions/0");
                assertEquals("written on b", version.at("/attrs/name/0").asText(), "the later create is the conflict version: " + conflicts);
                String owner = conflicts.at("/items/0/entry/createdId").asText();

                AdminApiTest.Reply bad = api.call(b, "POST", "/v1/namespaces/people/entries/" + id + "/discard", TOKEN, "{\"created\": \"yesterday\"}");
                assertEquals(400, bad.status(), bad.body());
                AdminApiTest.Reply ownerRefused = api.call(b, "POST", "/v1/namespaces/people/entries/" + id + "/discard", TOKEN,
                        "{\"created\": \"" + owner + "\"}");
                assertEquals(404, ownerRefused.status(), ownerRefused.body());
                assertTrue(ownerRefused.body().contains("owns the id"), ownerRefused.body());

                AdminApiTest.Reply discarded = api.call(b, "POST", "/v1/namespaces/people/entries/" + id + "/discard", TOKEN,
                        "{\"created\": \"" + version.get("createdId").asText() + "\"}");
                assertEquals(200, discarded.status(), discarded.body());
                assertEquals(0, api.call(b, "GET", "/v1/namespaces/people/entries?conflicts=true", TOKEN, null).json().get("items").size());
                assertEquals("written on a", b.engine().get("people", id).orElseThrow().text("name"));
                assertTrue(Files.readString(dir.resolve("b/audit.log")).contains("\"action\":\"discard-conflict\""));

                JsonNode sessions = api.call(b, "GET", "/v1/status", TOKEN, null).json().get("sessions");
                assertTrue(sessions.size() > 0 && sessions.toString().contains("\"action\":\"connect\""), "recent sessions: " + sessions);
            }
        }
    }
}
