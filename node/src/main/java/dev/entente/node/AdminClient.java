package dev.entente.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entente.config.NodeConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** How the command line talks to a running node: its admin API, with the token from its configuration. */
final class AdminClient {
    record Reply(int status, String body) {
    }

    private final NodeConfig config;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    AdminClient(NodeConfig config) {
        this.config = config;
    }

    Reply call(String method, String path, String body) {
        String host = config.adminListen().host();
        if (host.equals("0.0.0.0") || host.equals("::")) {
            host = "127.0.0.1";
        }
        URI uri = URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + config.adminListen().port() + path);
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(35))
                .header("Authorization", "Bearer " + config.adminToken().value()).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build();
        try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new IllegalStateException("cannot reach node '" + config.name() + "' at " + uri + ": " + e.getMessage() + " (is it running? entente node --config ...)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static String quote(String s) {
        try {
            return new ObjectMapper().writeValueAsString(s);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A status reply, for people. */
    static String describeStatus(String body) {
        try {
            JsonNode s = new ObjectMapper().readTree(body);
            StringBuilder sb = new StringBuilder();
            sb.append("node ").append(s.get("node").asText()).append("  origin ").append(s.get("origin").asText())
                    .append("  domain ").append(s.get("domain").asText()).append('\n');
            if (s.hasNonNull("refreshRequired")) {
                sb.append("REFRESH REQUIRED: ").append(s.get("refreshRequired").asText()).append('\n');
            }
            sb.append("agreements:\n");
            for (JsonNode a : s.get("agreements")) {
                sb.append(String.format("  %-20s %-12s last success %s, lag %d ms, %d changes applied%s%n", a.get("name").asText(),
                        a.get("state").asText(), a.path("lastSuccess").asText("never"), a.get("lagMillis").asLong(),
                        a.get("changesApplied").asLong(), a.hasNonNull("lastError") ? ", last error: " + a.get("lastError").asText() : ""));
            }
            sb.append("RUV:\n");
            s.get("ruv").fields().forEachRemaining(e -> sb.append(String.format("  %s max %d trimmed %d%n", e.getKey(),
                    e.getValue().get("max").asLong(), e.getValue().get("trimmed").asLong())));
            return sb.toString().trim();
        } catch (IOException e) {
            return body;
        }
    }
}
