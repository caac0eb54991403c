package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entente.engine.Attributes;
import dev.entente.engine.Schema;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The change feed over REST, live: a long poll answers at the next commit or at its time, and an
 * event stream sends each commit as it happens and resumes from the last event a client got;
 * both are bounded, and neither holds a worker while it waits.
 */
class ChangeStreamTest {
    private final AdminApiTest api = new AdminApiTest();

    @Test
    void aLongPollAnswersAtTheNextCommitAndAnEmptyOneAtItsTime(@TempDir Path dir) throws Exception {
        try (EntenteNode n = AdminApiTest.node(dir.resolve("a"), "a", "")) {
            String t = Files.readString(dir.resolve("a/admin.token")).trim();
            n.engine().transaction().defineNamespace("people", Schema.EMPTY).commit();
            long cursor = api.call(n, "GET", "/v1/changes?cursor=0", t, null).json().get("cursor").asLong();
            long start = System.nanoTime();
            CompletableFuture<AdminApiTest.Reply> poll = CompletableFuture.supplyAsync(() -> call(n, "/v1/changes?cursor=" + cursor + "&wait=30", t));
            Thread.sleep(300);
            assertTrue(!poll.isDone(), "the poll waits for a change");
            // Waiting polls hold no worker: the API answers meanwhile.
            assertEquals(200, api.call(n, "GET", "/v1/status", t, null).status());
            n.engine().create("people", Attributes.ofText("name", "alice"));
            AdminApiTest.Reply r = poll.get();
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(200, r.status(), r.body());
            assertEquals(1, r.json().get("events").size(), r.body());
            assertEquals("created", r.json().at("/events/0/changes/0/kind").asText());
            assertTrue(millis < 10_000, "answered at the commit, not at the poll's end: " + millis + " ms");

            long next = r.json().get("cursor").asLong();
            start = System.nanoTime();
            AdminApiTest.Reply empty = call(n, "/v1/changes?cursor=" + next + "&wait=1", t);
            millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(0, empty.json().get("events").size(), empty.body());
            assertEquals(next, empty.json().get("cursor").asLong());
            assertTrue(millis >= 900, "a poll with nothing to say waits its time: " + millis + " ms");
            assertEquals(400, call(n, "/v1/changes?cursor=0&wait=600", t).status(), "the wait is bounded");
            assertEquals(400, call(n, "/v1/changes?cursor=-1", t).status());
        }
    }

    @Test
    void moreLongPollsThanTheLimitAreTurnedAwayAndTheRestAnswered(@TempDir Path dir) throws Exception {
        // More connections than the default allows, so that the polls' own limit is the one met.
        java.util.concurrent.ExecutorService clients = java.util.concurrent.Executors.newFixedThreadPool(AdminServer.MAX_PARKED + 8);
        try (EntenteNode n = AdminApiTest.node(dir.resolve("a"), "a", "  maxConnections: " + (AdminServer.MAX_PARKED + 64) + "\n")) {
            String t = Files.readString(dir.resolve("a/admin.token")).trim();
            long cursor = api.call(n, "GET", "/v1/changes?cursor=0", t, null).json().get("cursor").asLong();
            List<CompletableFuture<AdminApiTest.Reply>> polls = new ArrayList<>();
            // Paced, so that the requests waiting for a worker stay under that limit (another 503):
            // the limit met here is the one on waiting polls.
            for (int i = 0; i < AdminServer.MAX_PARKED + 8; i++) {
                polls.add(CompletableFuture.supplyAsync(() -> call(n, "/v1/changes?cursor=" + cursor + "&wait=20", t), clients));
                Thread.sleep(3);
            }
            Cluster.await("the polls over the limit to be turned away", java.time.Duration.ofSeconds(15),
                    () -> polls.stream().filter(CompletableFuture::isDone).count() >= 8);
            Thread.sleep(200);
            List<AdminApiTest.Reply> early = polls.stream().filter(CompletableFuture::isDone).map(CompletableFuture::join).toList();
            assertTrue(early.stream().allMatch(r -> r.status() == 503 && r.body().contains("long polls are waiting")), "only the polls over the limit answer early: " + early);
            assertEquals(8, early.size(), "exactly the polls over the limit are turned away");
            n.engine().transaction().defineNamespace("people", Schema.EMPTY).commit();
            for (CompletableFuture<AdminApiTest.Reply> p : polls) {
                AdminApiTest.Reply r = p.get();
                assertTrue(r.status() == 503 || r.json().get("events").size() == 1, r.body());
            }
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void anEventStreamSendsEachCommitAsItHappensAndResumesFromTheLastEventId(@TempDir Path dir) throws Exception {
        try (EntenteNode n = AdminApiTest.node(dir.resolve("a"), "a", "")) {
            String t = Files.readString(dir.resolve("a/admin.token")).trim();
            n.engine().transaction().defineNamespace("people", Schema.EMPTY).commit();
            long lastSeen;
            try (Stream s = new Stream(n, t, "/v1/changes/stream?cursor=0", null)) {
                assertTrue(s.status.contains("200") && s.headers.contains("text/event-stream"), s.status + s.headers);
                JsonNode first = s.next();
                assertEquals("namespace", first.at("/changes/0/kind").asText());
                n.engine().create("people", Attributes.ofText("name", "bob"));
                JsonNode second = s.next();
                assertEquals("created", second.at("/changes/0/kind").asText());
                lastSeen = second.get("sequence").asLong();
                assertEquals(lastSeen, s.lastId);
            }
            n.engine().create("people", Attributes.ofText("name", "carol"));
            try (Stream s = new Stream(n, t, "/v1/changes/stream", Long.toString(lastSeen))) {
                JsonNode resumed = s.next();
                assertEquals(lastSeen + 1, resumed.get("sequence").asLong(), "resumes after the last event the client got");
            }
            try (Stream s = new Stream(n, "not-the-token", "/v1/changes/stream?cursor=0", null)) {
                assertTrue(s.status.contains("403"), s.status);
            }
        }
    }

    @Test
    void moreStreamsThanTheLimitAreTurnedAway(@TempDir Path dir) throws Exception {
        try (EntenteNode n = AdminApiTest.node(dir.resolve("a"), "a", "")) {
            String t = Files.readString(dir.resolve("a/admin.token")).trim();
            List<Stream> open = new ArrayList<>();
            try {
                for (int i = 0; i < AdminServer.MAX_STREAMS; i++) {
                    Stream s = new Stream(n, t, "/v1/changes/stream?cursor=0", null);
                    open.add(s);
                    assertTrue(s.status.contains("200"), s.status);
                }
                try (Stream over = new Stream(n, t, "/v1/changes/stream?cursor=0", null)) {
                    assertTrue(over.status.contains("503"), over.status);
                }
                open.remove(0).close();
                Cluster.await("a closed stream to free its place", java.time.Duration.ofSeconds(10), () -> {
                    try (Stream again = new Stream(n, t, "/v1/changes/stream?cursor=0", null)) {
                        return again.status.contains("200");
                    }
                });
            } finally {
                for (Stream s : open) {
                    s.close();
                }
            }
        }
    }

    private AdminApiTest.Reply call(EntenteNode n, String path, String token) {
        try {
            return api.call(n, "GET", path, token, null);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A raw event-stream client: the status line, the headers, then one event at a time. */
    private static final class Stream implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader in;
        final String status;
        final String headers;
        long lastId = -1;

        Stream(EntenteNode n, String token, String path, String lastEventId) {
            try {
                socket = new Socket("127.0.0.1", n.adminAddress().getPort());
                socket.setSoTimeout(20_000);
                OutputStream out = socket.getOutputStream();
                out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\nAccept: text/event-stream\r\n"
                        + (lastEventId == null ? "" : "Last-Event-ID: " + lastEventId + "\r\n") + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                status = in.readLine();
                StringBuilder h = new StringBuilder();
                for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                    h.append(line).append('\n');
                }
                headers = h.toString();
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The next event's data (chunk sizes and comments skipped). */
        JsonNode next() throws Exception {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith("id: ")) {
                    lastId = Long.parseLong(line.substring(4));
                } else if (line.startsWith("data: ")) {
                    return new ObjectMapper().readTree(line.substring(6));
                }
            }
            throw new IllegalStateException("the stream ended");
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
