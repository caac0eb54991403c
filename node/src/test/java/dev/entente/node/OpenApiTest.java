package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAPI description the node serves is the API: it lists exactly the routes the server
 * answers (Routes.ALL, which the API refuses everything outside of), and every route it
 * describes answers on a running node, not 404 or 405.
 */
class OpenApiTest {
    private final AdminApiTest api = new AdminApiTest();

    @Test
    void theDescriptionListsEveryRouteAndEveryDescribedRouteAnswers(@TempDir Path dir) throws Exception {
        try (EntenteNode n = AdminApiTest.node(dir.resolve("a"), "a", "")) {
            String t = Files.readString(dir.resolve("a/admin.token")).trim();
            AdminApiTest.Reply served = api.call(n, "GET", "/v1/openapi.json", null, null);
            assertEquals(200, served.status(), "served without a token: " + served.body());
            JsonNode doc = new ObjectMapper().readTree(served.body());
            assertEquals("3.0.3", doc.get("openapi").asText());
            assertTrue(doc.at("/info/version").asText().startsWith("0."), "the build's version: " + doc.at("/info/version"));

            Set<String> described = new TreeSet<>();
            for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields(); paths.hasNext(); ) {
                Map.Entry<String, JsonNode> p = paths.next();
                p.getValue().fieldNames().forEachRemaining(m -> {
                    if (!m.equals("parameters")) {
                        described.add(m.toUpperCase() + " " + p.getKey());
                    }
                });
            }
            Set<String> routes = new TreeSet<>();
            Routes.ALL.forEach(r -> routes.add(r.method() + " " + r.template()));
            assertEquals(routes, described, "the description and the routes the server answers");

            api.call(n, "PUT", "/v1/namespaces/people", t, "{}");
            String id = api.call(n, "POST", "/v1/namespaces/people/entries", t, "{\"attrs\": {\"name\": \"x\"}}").json().get("id").asText();
            for (String route : described) {
                String method = route.substring(0, route.indexOf(' '));
                String path = route.substring(route.indexOf(' ') + 1).replace("{ns}", "people").replace("{id}", id).replace("{name}", "nobody");
                String body = switch (method) {
                    case "PUT" -> "{}";
                    case "POST" -> path.endsWith("/entries") ? "{\"attrs\": {\"name\": \"y\"}}" : path.startsWith("/v1/peers/") ? "{}" : null;
                    case "PATCH" -> "{\"set\": {\"name\": \"z\"}}";
                    default -> null;
                };
                if (path.equals("/v1/changes/stream")) {
                    continue; // a stream never ends: ChangeStreamTest reads it
                }
                AdminApiTest.Reply r = api.call(n, method, path, t, body);
                // Answered by the route itself (a 404 for a deleted entry, a 400 for a refresh
                // without an agreement are its answers), not refused as an unknown route.
                assertTrue(r.status() != 405 && !r.body().contains("no such endpoint"), route + " answers: " + r.status() + " " + r.body());
            }
            AdminApiTest.Reply unknown = api.call(n, "GET", "/v1/nowhere", t, null);
            assertEquals(404, unknown.status());
            assertTrue(unknown.body().contains("openapi.json"), unknown.body());
            AdminApiTest.Reply wrong = api.call(n, "POST", "/v1/status", t, null);
            assertEquals(405, wrong.status());
            assertTrue(wrong.body().contains("use GET"), wrong.body());
        }
    }
}
