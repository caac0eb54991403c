package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entente.config.ConfigLoader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The REST API of a real node over HTTP, including its errors. */
class AdminApiTest {
    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();

    record Reply(int status, String body) {
        JsonNode json() throws Exception {
            return new ObjectMapper().readTree(body);
        }
    }

    Reply call(EntenteNode n, String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.adminAddress().getPort() + path)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body());
    }

    static EntenteNode node(Path dir, String name, String extra) throws Exception {
        CliTest.cli("init", "--data-dir", dir.toString(), "--name", name, "--new-domain", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0");
        if (!extra.isEmpty()) {
            Files.writeString(dir.resolve("node.yaml"), Files.readString(dir.resolve("node.yaml")) + extra);
        }
        return EntenteNode.start(ConfigLoader.load(dir.resolve("node.yaml")));
    }

    @Test
    void theDataApiCreatesReadsModifiesListsAndDeletes(@TempDir Path dir) throws Exception {
        try (EntenteNode n = node(dir.resolve("a"), "a", "")) {
            String t = Files.readString(dir.resolve("a/admin.token")).trim();
            assertEquals(new Reply(200, "ok\n"), call(n, "GET", "/_status/check", null, null));
            assertEquals(200, call(n, "PUT", "/v1/namespaces/people", t, "{\"unique\": [\"name\"], \"sets\": [\"memberof\"]}").status());
            Reply created = call(n, "POST", "/v1/namespaces/people/entries", t, "{\"attrs\": {\"name\": [\"alice\"], \"memberof\": [\"g1\", \"g2\"]}}");
            assertEquals(201, created.status(), created.body());
            String id = created.json().get("id").asText();
            Reply got = call(n, "GET", "/v1/namespaces/people/entries/" + id, t, null);
            assertEquals("alice", got.json().at("/attrs/name/0").asText());
            assertEquals(200, call(n, "PATCH", "/v1/namespaces/people/entries/" + id, t,
                    "{\"set\": {\"mail\": \"a@example.org\"}, \"add\": {\"memberof\": [\"g3\"]}, \"remove\": {\"memberof\": [\"g1\"]}}").status());
            JsonNode after = call(n, "GET", "/v1/namespaces/people/entries/" + id, t, null).json();
            assertEquals("a@example.org", after.at("/attrs/mail/0").asText());
            assertEquals("[\"g2\",\"g3\"]", after.at("/attrs/memberof").toString());
            Reply clash = call(n, "POST", "/v1/namespaces/people/entries", t, "{\"attrs\": {\"name\": \"alice\"}}");
            assertEquals(409, clash.status());
            assertTrue(clash.json().get("detail").asText().contains("already held by entry " + id), clash.body());
            JsonNode list = call(n, "GET", "/v1/namespaces/people/entries?limit=10", t, null).json();
            assertEquals(1, list.get("items").size());
            assertEquals(1, call(n, "GET", "/v1/digest", t, null).json().get("entries").asInt());
            assertEquals(200, call(n, "DELETE", "/v1/namespaces/people/entries/" + id, t, null).status());
            Reply gone = call(n, "GET", "/v1/namespaces/people/entries/" + id, t, null);
            assertEquals(404, gone.status());
            assertTrue(gone.json().get("detail").asText().contains("was deleted"), gone.body());
            JsonNode changes = call(n, "GET", "/v1/changes?cursor=0", t, null).json();
            assertTrue(changes.get("events").size() >= 4, changes.toString());
            assertEquals("namespace", changes.at("/events/0/changes/0/kind").asText());
            JsonNode status = call(n, "GET", "/v1/status", t, null).json();
            assertEquals("a", status.get("node").asText());
            assertEquals(n.engine().originId().toString(), status.get("origin").asText());
            String metrics = call(n, "GET", "/metrics", null, null).body();
            assertTrue(metrics.contains("entente_changes_committed_total") && metrics.contains("entente_conflicts"), metrics);
            String audit = Files.readString(dir.resolve("a/audit.log"));
            assertTrue(audit.contains("\"action\":\"create\"") && audit.contains("\"action\":\"delete\""), audit);
        }
    }

    @Test
    void errorsComeAsJsonWithTheRightStatus(@TempDir Path dir) throws Exception {
        try (EntenteNode n = node(dir.resolve("a"), "a", "")) {
            String t = Files.readString(dir.resolve("a/admin.token")).trim();
            Reply noToken = call(n, "GET", "/v1/status", null, null);
            assertEquals(401, noToken.status());
            assertEquals("unauthorized", noToken.json().get("error").asText());
            assertEquals(403, call(n, "GET", "/v1/status", "wrong-token-0123456789", null).status());
            assertEquals(404, call(n, "GET", "/v1/nowhere", t, null).status());
            assertEquals(404, call(n, "GET", "/v1/namespaces/ghosts/entries", t, null).status());
            assertEquals(405, call(n, "DELETE", "/v1/status", t, null).status());
            Reply bad = call(n, "PUT", "/v1/namespaces/people", t, "{not json");
            assertEquals(400, bad.status());
            assertTrue(bad.json().get("detail").asText().contains("not valid JSON"), bad.body());
            assertEquals(400, call(n, "GET", "/v1/namespaces/people/entries/not-a-uuid", t, null).status());
            assertEquals(413, call(n, "POST", "/v1/namespaces/people/entries", t, "{\"attrs\": {\"x\": \"" + "y".repeat(2 << 20) + "\"}}").status());
        }
    }

    @Test
    void aWriteThroughOneNodeIsReadOnAnotherAndSyncReportsTheSession(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        try (EntenteNode na = node(a, "a", "")) {
            // b joins a: init b, pin each other, agreement b <- a
            CliTest.cli("init", "--data-dir", b.toString(), "--name", "b", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0");
            String aConfig = Files.readString(a.resolve("node.yaml")).replace("consumers: []",
                    "consumers:\n    - name: b\n      certificate: " + b.resolve("cert.pem"));
            Files.writeString(a.resolve("node.yaml"), aConfig);
            String bConfig = Files.readString(b.resolve("node.yaml")).replace("agreements: []", "agreements:\n  - name: from-a\n    supplier: 127.0.0.1:"
                    + na.replication().address().getPort() + "\n    certificate: " + a.resolve("cert.pem") + "\n    interval: 1s\n");
            Files.writeString(b.resolve("node.yaml"), bConfig);
            na.close();
            try (EntenteNode na2 = EntenteNode.start(withPort(a, na.replication().address().getPort()));
                 EntenteNode nb = EntenteNode.start(ConfigLoader.load(b.resolve("node.yaml")))) {
                String ta = Files.readString(a.resolve("admin.token")).trim();
                String tb = Files.readString(b.resolve("admin.token")).trim();
                Cluster.await("b to join", Duration.ofSeconds(30), () -> nb.engine().refreshRequired().isEmpty());
                call(na2, "PUT", "/v1/namespaces/people", ta, "{\"unique\": [\"name\"]}");
                String id = call(na2, "POST", "/v1/namespaces/people/entries", ta, "{\"attrs\": {\"name\": \"carol\"}}").json().get("id").asText();
                Reply sync = call(nb, "POST", "/v1/replication/sync", tb, null);
                assertEquals(200, sync.status(), sync.body());
                assertTrue(sync.json().at("/results/0/ok").asBoolean(), sync.body());
                Reply read = call(nb, "GET", "/v1/namespaces/people/entries/" + id, tb, null);
                assertEquals(200, read.status(), read.body());
                assertEquals("carol", read.json().at("/attrs/name/0").asText());
                assertEquals(call(na2, "GET", "/v1/digest", ta, null).json().get("digest"), call(nb, "GET", "/v1/digest", tb, null).json().get("digest"));
                JsonNode status = call(nb, "GET", "/v1/status", tb, null).json();
                assertEquals("from-a", status.at("/agreements/0/name").asText());
                assertTrue(status.at("/agreements/0/lastSuccess").isTextual(), status.toString());
                String originBefore = nb.engine().originId().toString();
                Reply refresh = call(nb, "POST", "/v1/replication/refresh?from=from-a", tb, null);
                assertEquals(200, refresh.status(), refresh.body());
                assertTrue(!refresh.json().get("origin").asText().equals(originBefore), "a refreshed node takes a new origin id");
                assertEquals(400, call(nb, "POST", "/v1/replication/refresh", tb, null).status());
                assertEquals(400, call(nb, "POST", "/v1/replication/refresh?from=nowhere", tb, null).status());
                assertEquals(call(na2, "GET", "/v1/digest", ta, null).json().get("digest"), call(nb, "GET", "/v1/digest", tb, null).json().get("digest"));
                String audit = Files.readString(b.resolve("audit.log"));
                assertTrue(audit.contains("\"action\":\"connect\"") && audit.contains("\"action\":\"refresh\""), audit);
                assertTrue(Files.readString(a.resolve("audit.log")).contains("\"action\":\"serve\""));
                String metrics = call(nb, "GET", "/metrics", null, null).body();
                for (String m : new String[] {"entente_agreement_changes_applied_total{agreement=\"from-a\"}", "entente_agreement_pulls_total",
                    "entente_agreement_pull_seconds_total", "entente_agreement_lag_seconds", "entente_changes_written_total",
                    "entente_changelog_records", "entente_ruv_max_seconds", "entente_agreement_refreshes_total"}) {
                    assertTrue(metrics.contains(m), m + " in\n" + metrics);
                }
            }
        }
    }

    /** a's configuration, listening on the port its peers were told. */
    /** Writes raw HTTP on one connection and reads what comes back until {@code responses} responses or the close. */
    private static String raw(EntenteNode n, String requests, int responses) throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", n.adminAddress().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(requests.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            StringBuilder got = new StringBuilder();
            java.io.InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            while (got.toString().split("HTTP/1.1 ", -1).length - 1 < responses) {
                int k = in.read(buf);
                if (k < 0) {
                    break;
                }
                got.append(new String(buf, 0, k, java.nio.charset.StandardCharsets.UTF_8));
            }
            Thread.sleep(100);
            while (in.available() > 0) {
                int k = in.read(buf);
                got.append(new String(buf, 0, k, java.nio.charset.StandardCharsets.UTF_8));
            }
            return got.toString();
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderAndHealthNeverWaitsForAnotherConnection(@TempDir Path dir) throws Exception {
        try (EntenteNode n = node(dir.resolve("a"), "a", "")) {
            String t = Files.readString(dir.resolve("a/admin.token")).trim();
            String got = raw(n, "GET /v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + t + "\r\n\r\n"
                    + "GET /_status/check HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /v1/digest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + t + "\r\n\r\n", 3);
            int status = got.indexOf("\"node\"");
            int health = got.indexOf("\r\n\r\nok\n");
            int digest = got.indexOf("\"digest\"");
            assertTrue(status >= 0 && health > status && digest > health, "in the order asked:\n" + got);
        }
    }

    @Test
    void connectionsAreCappedAndIdleOnesClosed(@TempDir Path dir) throws Exception {
        // The cap and the timeout come from admin.maxConnections and admin.idleTimeout.
        Path a = dir.resolve("b");
        CliTest.cli("init", "--data-dir", a.toString(), "--name", "b", "--new-domain", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0");
        Files.writeString(a.resolve("node.yaml"), Files.readString(a.resolve("node.yaml")).replace("tokenFile: admin.token",
                "tokenFile: admin.token\n  maxConnections: 5\n  idleTimeout: 1s"));
        try (EntenteNode n = EntenteNode.start(ConfigLoader.load(a.resolve("node.yaml")))) {
            java.util.List<java.net.Socket> sockets = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    java.net.Socket s = new java.net.Socket("127.0.0.1", n.adminAddress().getPort());
                    s.setSoTimeout(5_000);
                    sockets.add(s);
                }
                int closed = 0;
                long start = System.nanoTime();
                for (java.net.Socket s : sockets) {
                    try {
                        if (s.getInputStream().read() < 0) {
                            closed++;
                        }
                    } catch (java.net.SocketException e) {
                        closed++;
                    }
                }
                assertEquals(8, closed, "five closed after the idle timeout, then the three that waited beyond the cap, after theirs");
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(4), "idle ones closed after about a second each");
            } finally {
                for (java.net.Socket s : sockets) {
                    s.close();
                }
            }
            assertEquals(new Reply(200, "ok\n"), call(n, "GET", "/_status/check", null, null), "the server serves again");
        }
    }

    @Test
    void anOversizedBodyGetsAJsonErrorAndARefusedChangeIsAudited(@TempDir Path dir) throws Exception {
        try (EntenteNode n = node(dir.resolve("a"), "a", "")) {
            Reply big = call(n, "POST", "/v1/namespaces/people/entries", "x", "x".repeat(2 << 20));
            assertEquals(413, big.status());
            assertEquals("too_large", big.json().get("error").asText());
            String t = Files.readString(dir.resolve("a/admin.token")).trim();
            call(n, "PUT", "/v1/namespaces/people", t, "{}");
            Reply value = call(n, "POST", "/v1/namespaces/people/entries", t, "{\"attrs\": {\"x\": \"" + "y".repeat(300 << 10) + "\"}}");
            assertEquals(413, value.status(), value.body());
            assertTrue(value.json().get("detail").asText().contains("(setting engine.maxValueSize)"), "names the node's setting: " + value.body());
            Reply forbidden = call(n, "DELETE", "/v1/namespaces/people/entries/" + java.util.UUID.randomUUID(), "not-the-token", null);
            assertEquals(403, forbidden.status());
            String audit = Files.readString(dir.resolve("a/audit.log"));
            assertTrue(audit.contains("DELETE /v1/namespaces/people/entries/") && audit.contains("refused: 403"), audit);
        }
    }

    @Test
    void filesAreOwnerOnlyAndATokenOthersCanReadIsAWarningInStatus(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        CliTest.cli("init", "--data-dir", a.toString(), "--name", "a", "--new-domain", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0");
        Files.setPosixFilePermissions(a, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(a.resolve("admin.token"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        try (EntenteNode n = EntenteNode.start(ConfigLoader.load(a.resolve("node.yaml")))) {
            assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(a)), "the data directory");
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(a.resolve("node.yaml"))));
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(a.resolve("audit.log"))));
            String t = Files.readString(a.resolve("admin.token")).trim();
            JsonNode status = call(n, "GET", "/v1/status", t, null).json();
            assertTrue(status.get("warnings").toString().contains("admin token file") && status.get("warnings").toString().contains("chmod 600"),
                    status.toString());
            assertTrue(status.has("certificateNotAfter"));
        }
    }

    @Test
    void jsonIsStrictAndIdsCanonicalAndPagesBoundedByBytes(@TempDir Path dir) throws Exception {
        try (EntenteNode n = node(dir.resolve("a"), "a", "")) {
            String t = Files.readString(dir.resolve("a/admin.token")).trim();
            for (String bad : java.util.List.of("{\"unique\": [null]}", "{\"unique\": [1]}", "{\"mergeConcurrentCreates\": \"yes\"}",
                    "{\"unique\": []} trailing", "{\"unique\": [], \"unique\": [\"name\"]}")) {
                Reply r = call(n, "PUT", "/v1/namespaces/things", t, bad);
                assertEquals(400, r.status(), bad + " -> " + r.body());
            }
            assertEquals(200, call(n, "PUT", "/v1/namespaces/things", t, "{}").status());
            String escaped = raw(n, "GET /v1/namespaces/things/entries?after=%zz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + t + "\r\n\r\n"
                    + "GET /_status/check HTTP/1.1\r\nHost: x\r\n\r\n", 2);
            assertTrue(escaped.startsWith("HTTP/1.1 400") && escaped.contains("%-encoded") && escaped.contains("\r\n\r\nok\n"),
                    "a bad escape is a 400 and the connection goes on:\n" + escaped);
            String upper = "0F8FAD5B-D9CB-469F-A165-70867728950E";
            assertEquals(400, call(n, "GET", "/v1/namespaces/things/entries/" + upper, t, null).status(), "one entry, one name");
            assertEquals(400, call(n, "POST", "/v1/namespaces/things/entries", t, "{\"id\": 5, \"attrs\": {}}").status());
            String big = "v".repeat(250_000);
            for (int i = 0; i < 20; i++) {
                n.engine().create("things", dev.entente.engine.Attributes.ofText("blob", big));
            }
            JsonNode page = call(n, "GET", "/v1/namespaces/things/entries?limit=1000", t, null).json();
            int got = page.get("items").size();
            assertTrue(got >= 1 && got < 20, "a page stops near 4 MiB of values: " + got + " items");
            assertTrue(page.hasNonNull("next"));
            int total = got;
            while (page.hasNonNull("next")) {
                page = call(n, "GET", "/v1/namespaces/things/entries?limit=1000&after=" + page.get("next").asText(), t, null).json();
                total += page.get("items").size();
            }
            assertEquals(20, total, "the cursor reaches every entry once");
        }
    }

    @Test
    void longOperationsRunOnThreadsOfTheirOwnAndHealthNeverWaitsBehindThem(@TempDir Path dir) throws Exception {
        // A supplier that accepts connections and never answers: each sync waits out the TLS handshake.
        try (java.net.ServerSocket blackhole = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            java.util.List<java.net.Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(blackhole.accept());
                    }
                } catch (java.io.IOException closed) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            Path a = dir.resolve("a");
            String agreement = "agreements:\n  - name: silent\n    supplier: 127.0.0.1:" + blackhole.getLocalPort() + "\n    certificate: cert.pem\n";
            CliTest.cli("init", "--data-dir", a.toString(), "--name", "a", "--new-domain", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0");
            Files.writeString(a.resolve("node.yaml"), Files.readString(a.resolve("node.yaml")).replace("agreements: []\n", agreement));
            try (EntenteNode n = EntenteNode.start(ConfigLoader.load(a.resolve("node.yaml")))) {
                String t = Files.readString(a.resolve("admin.token")).trim();
                java.util.List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> syncs = new java.util.ArrayList<>();
                for (int i = 0; i < AdminServer.MAX_LONG + 1; i++) {
                    syncs.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.adminAddress().getPort() + "/v1/replication/sync"))
                            .header("Authorization", "Bearer " + t).POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(60)).build(),
                            HttpResponse.BodyHandlers.ofString()));
                }
                Thread.sleep(500);
                long start = System.nanoTime();
                assertEquals(new Reply(200, "ok\n"), call(n, "GET", "/_status/check", null, null));
                assertEquals(200, call(n, "GET", "/v1/status", t, null).status(), "the workers are free");
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertTrue(millis < 2000, "health and status answered in " + millis + " ms while the syncs wait");
                long busy = syncs.stream().map(java.util.concurrent.CompletableFuture::join).filter(r -> r.statusCode() == 503).count();
                assertEquals(1, busy, "one more long operation than the limit is turned away");
            }
        }
    }

    private static dev.entente.config.NodeConfig withPort(Path a, int port) throws Exception {
        Files.writeString(a.resolve("node.yaml"), Files.readString(a.resolve("node.yaml")).replace("listen: 127.0.0.1:0\n  consumers", "listen: 127.0.0.1:" + port + "\n  consumers"));
        return ConfigLoader.load(a.resolve("node.yaml"));
    }
}
