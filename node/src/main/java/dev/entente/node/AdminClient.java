package dev.entente.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entente.config.NodeConfig;
import dev.entente.engine.Progress;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

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
        if (config.adminListen() == null) {
            throw new IllegalStateException("node '" + config.name() + "' runs no admin API (admin.listen: off), so the command line cannot talk to it");
        }
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

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode parse(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    /** An error reply for a person: its detail when it has one, else the body as it is. */
    static String errorText(String body) {
        JsonNode n = parse(body);
        if (n != null && n.hasNonNull("detail")) {
            return n.get("detail").asText();
        }
        if (n != null && n.has("results")) {
            return describeSync(body);
        }
        return body.trim();
    }

    /** A status reply, for people. */
    static String describeStatus(String body) {
        JsonNode s = parse(body);
        if (s == null) {
            return body;
        }
        StringBuilder sb = new StringBuilder();
        sb.append("node ").append(s.get("node").asText()).append("  origin ").append(s.get("origin").asText())
                .append("  domain ").append(s.get("domain").asText()).append('\n');
        if (s.hasNonNull("refreshRequired")) {
            sb.append("REFRESH REQUIRED: ").append(s.get("refreshRequired").asText()).append('\n');
        }
        for (JsonNode w : s.path("warnings")) {
            sb.append("warning: ").append(w.asText()).append('\n');
        }
        sb.append("agreements (this node pulls):").append(s.path("agreements").isEmpty() ? " none" : "").append('\n');
        for (JsonNode a : s.path("agreements")) {
            boolean ever = a.hasNonNull("lastSuccess");
            sb.append(String.format("  %-20s %-16s %s%s%n", a.get("name").asText(), a.get("state").asText(),
                    ever ? "last success " + a.get("lastSuccess").asText() + ", lag " + a.get("lagMillis").asLong() + " ms, "
                            + a.get("changesApplied").asLong() + " changes applied" : "never succeeded",
                    a.hasNonNull("lastError") ? "; last error: " + a.get("lastError").asText() : ""));
            if (a.path("refresh").isObject()) {
                sb.append("  ").append(" ".repeat(21)).append("refreshing: ").append(describe(progress(a.get("refresh")))).append('\n');
            }
        }
        for (JsonNode b : s.path("backups")) {
            sb.append("backup running: ").append(b.path("name").asText()).append(", ").append(describe(progress(b.get("progress")))).append('\n');
        }
        sb.append("consumers (pull from this node):").append(s.path("consumers").isEmpty() ? " none" : "").append('\n');
        for (JsonNode c : s.path("consumers")) {
            int n = c.get("sessions").asInt();
            sb.append(String.format("  %-20s %s, %s  key %s%n", c.get("name").asText(), n == 0 ? "not connected" : n + (n == 1 ? " session" : " sessions"),
                    c.hasNonNull("lastPulled") ? "last pulled " + c.get("lastPulled").asText() : "never pulled", c.get("key").asText()));
        }
        sb.append("RUV (newest change held of each origin):").append(s.path("ruv").isEmpty() ? " empty" : "").append('\n');
        s.path("ruv").fields().forEachRemaining(e -> {
            JsonNode r = e.getValue();
            String trimmed = r.hasNonNull("trimmedCid") ? ", trimmed up to " + r.get("trimmedCid").asText() : "";
            String who = r.path("self").asBoolean() ? " (this node)" : r.hasNonNull("name") ? " (" + r.get("name").asText() + ")" : "";
            sb.append(String.format("  %s%s  %s%s%n", e.getKey(), who,
                    r.hasNonNull("maxCid") ? r.get("maxCid").asText() : "none", trimmed));
        });
        long notLogged = s.path("refusalsNotLogged").asLong();
        if (!s.path("refusals").isEmpty()) {
            sb.append("recent refusals:\n");
            for (JsonNode r : s.path("refusals")) {
                // A connection that failed has no refusal code: its reason says what happened.
                String code = r.get("code").asText();
                sb.append("  ").append(r.get("at").asText()).append(' ').append(r.get("peer").asText()).append(' ')
                        .append(code.equals("CODE_UNSPECIFIED") ? "" : code + ": ").append(r.get("reason").asText()).append('\n');
            }
        }
        if (notLogged > 0) {
            sb.append(notLogged).append(" refusals were not logged (rate limit)\n");
        }
        return sb.toString().trim();
    }

    /** A sync reply, for people: one line per agreement. */
    static String describeSync(String body) {
        JsonNode s = parse(body);
        if (s == null) {
            return body;
        }
        StringBuilder sb = new StringBuilder();
        for (JsonNode r : s.path("results")) {
            sb.append(String.format("%-20s %s%n", r.get("agreement").asText(), r.get("ok").asBoolean()
                    ? "ok: " + r.get("applied").asLong() + " changes in " + r.get("batches").asLong() + " batches (" + r.get("bytes").asLong()
                    + " bytes), " + r.get("millis").asLong() + " ms"
                    : "failed: " + r.path("error").asText()));
        }
        if (s.path("results").isEmpty()) {
            sb.append("this node has no agreements\n");
        }
        long conflicts = s.path("conflicts").asLong();
        if (conflicts > 0) {
            sb.append(conflicts).append(" conflicted entries (GET /v1/namespaces/{ns}/conflicts lists them)\n");
        }
        return sb.toString().trim();
    }

    /** A refresh reply, for people. */
    static String describeRefresh(String body) {
        JsonNode s = parse(body);
        if (s == null) {
            return body;
        }
        return "refreshed from agreement '" + s.get("agreement").asText() + "' in " + s.get("millis").asLong() + " ms: "
                + s.get("entries").asLong() + " entries; this node's origin is now " + s.get("origin").asText();
    }

    /** While a refresh runs: how much of the snapshot has come, from the node's status. */
    static String describeRefreshProgress(String statusBody, String agreement) {
        JsonNode s = parse(statusBody);
        if (s == null) {
            return null;
        }
        for (JsonNode a : s.path("agreements")) {
            if (a.get("name").asText().equals(agreement)) {
                return a.get("state").asText().equals("REFRESHING")
                        ? "refreshing: " + (a.path("refresh").isObject() ? describe(progress(a.get("refresh"))) : "connecting to the supplier")
                        : "agreement '" + agreement + "' is " + a.get("state").asText()
                        + (a.hasNonNull("lastError") ? ": " + a.get("lastError").asText() : "");
            }
        }
        return null;
    }

    /** How far the backup of that name (or the only one, when none is given) is, from a status reply; null: none running. */
    static String describeBackupProgress(String statusBody, String name) {
        JsonNode s = parse(statusBody);
        if (s == null) {
            return null;
        }
        List<JsonNode> running = new ArrayList<>();
        s.path("backups").forEach(running::add);
        for (JsonNode b : running) {
            if (name != null ? b.path("name").asText().equals(name) : running.size() == 1) {
                return "writing " + b.path("name").asText() + ": " + describe(progress(b.get("progress")));
            }
        }
        return null;
    }

    /** A progress as a status reply gives it. */
    static Progress progress(JsonNode p) {
        return new Progress(p.path("unit").asText(), p.path("done").asLong(), p.path("total").asLong(), p.path("bytes").asLong(),
                java.time.Duration.ofMillis(p.path("elapsedMillis").asLong()));
    }

    /** A progress for people: how much of how much, the rate, and the time left when it can be told. */
    static String describe(Progress p) {
        boolean bytes = p.unit().equals("bytes");
        java.util.function.LongFunction<String> amount = n -> bytes ? size(n) : String.format(java.util.Locale.ROOT, "%,d", n);
        StringBuilder b = new StringBuilder(amount.apply(p.done()));
        if (p.total() > 0 && p.done() <= p.total()) {
            b.append(" of ").append(bytes ? "" : "about ").append(amount.apply(p.total())).append(bytes ? "" : " " + p.unit())
                    .append(String.format(java.util.Locale.ROOT, " (%d%%)", p.done() * 100 / p.total()));
        } else if (!bytes) {
            b.append(' ').append(p.unit());
        }
        if (!bytes) {
            b.append(", ").append(size(p.bytes()));
        }
        b.append(", ").append(bytes ? size((long) p.perSecond()) + "/s" : String.format(java.util.Locale.ROOT, "%,.0f %s/s", p.perSecond(), p.unit()));
        p.secondsLeft().ifPresent(left -> b.append(", about ").append(left < 120 ? left + " s" : (left + 59) / 60 + " min").append(" left"));
        return b.toString();
    }

    /** A backup reply, for people. */
    static String describeBackup(String body) {
        JsonNode s = parse(body);
        if (s == null) {
            return body;
        }
        return "backup written: " + s.get("path").asText() + " (" + size(s.get("bytes").asLong()) + ") in " + s.get("millis").asLong() + " ms";
    }

    /** A page of the change feed: each commit as a line, and where the next page starts. */
    record Page(List<String> people, List<String> raw, long cursor) {
        boolean empty() {
            return raw.isEmpty();
        }

        List<String> lines(boolean json) {
            return json ? raw : people;
        }
    }

    static Page changes(String body) {
        JsonNode s = parse(body);
        if (s == null) {
            throw new IllegalStateException("the node's change feed reply is not JSON: " + body);
        }
        List<String> people = new ArrayList<>();
        List<String> raw = new ArrayList<>();
        for (JsonNode e : s.path("events")) {
            raw.add(e.toString());
            StringBuilder sb = new StringBuilder().append(e.get("sequence").asLong()).append(' ').append(e.get("committed").asText())
                    .append(e.path("local").asBoolean() ? " local " : " replicated ").append(e.get("cid").asText());
            if (e.path("reset").asBoolean()) {
                sb.append(" reset: the node was refreshed; re-read everything");
            }
            for (JsonNode c : e.path("changes")) {
                sb.append("  ").append(c.get("kind").asText()).append(' ').append(c.get("namespace").asText());
                if (c.hasNonNull("id")) {
                    sb.append('/').append(c.get("id").asText());
                }
            }
            people.add(sb.toString());
        }
        return new Page(people, raw, s.get("cursor").asLong());
    }

    /** The peers in effect, for people. */
    static String describePeers(String body) {
        JsonNode s = parse(body);
        if (s == null) {
            return body;
        }
        StringBuilder sb = new StringBuilder("consumers:").append(s.path("consumers").isEmpty() ? " none" : "").append('\n');
        for (JsonNode c : s.path("consumers")) {
            sb.append(String.format("  %-20s %-10s %s%n", c.get("name").asText(), c.get("source").asText(), "key " + c.get("key").asText()));
        }
        sb.append("agreements:").append(s.path("agreements").isEmpty() ? " none" : "").append('\n');
        for (JsonNode a : s.path("agreements")) {
            sb.append(String.format("  %-20s %-10s %s %s%n", a.get("name").asText(), a.get("source").asText(), a.get("supplier").asText(),
                    a.path("state").asText("")));
        }
        return sb.toString().trim();
    }

    /** A byte count as a person reads it. */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
