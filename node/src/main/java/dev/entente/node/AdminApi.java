package dev.entente.node;

import dev.entente.engine.session.AgreementStatus;
import dev.entente.engine.session.SyncResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entente.engine.Value;
import dev.entente.engine.AttributeChange;
import dev.entente.engine.Attributes;
import dev.entente.engine.clock.Cid;
import dev.entente.engine.ConflictedEntry;
import dev.entente.engine.Digest;
import dev.entente.engine.Engine;
import dev.entente.engine.error.EntenteException;
import dev.entente.engine.Entry;
import dev.entente.engine.EntryExistsException;
import dev.entente.engine.EntryNotFoundException;
import dev.entente.engine.FeedEvent;
import dev.entente.engine.FeedGapException;
import dev.entente.engine.InvalidWriteException;
import dev.entente.engine.LimitExceededException;
import dev.entente.engine.Namespace;
import dev.entente.engine.Page;
import dev.entente.engine.Progress;
import dev.entente.engine.RefreshRequiredException;
import dev.entente.engine.Schema;
import dev.entente.engine.SchemaViolationException;
import dev.entente.engine.UniquenessViolationException;
import dev.entente.engine.UnknownNamespaceException;
import dev.entente.engine.ValidationException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The REST data and admin API's logic, apart from HTTP: each call takes the request's method,
 * path, query and body and gives a status and a JSON body. Errors are {@code {"error", "detail"}}
 * with the status that fits.
 */
final class AdminApi {

    /** A response: status code and body (JSON, or text for the health check). */
    /**
     * @param waitMillis for a long poll with nothing to answer yet: how long the server may hold the
     *             request until a commit (then it asks again with {@code wait=0}); 0 otherwise
     */
    record Response(int status, String body, String contentType, long waitMillis) {
        Response(int status, String body, String contentType) {
            this(status, body, contentType, 0);
        }

        static Response json(int status, Object body, ObjectMapper m) {
            try {
                return new Response(status, m.writeValueAsString(body) + "\n", "application/json");
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("cannot write JSON", e);
            }
        }
    }

    /** A request the API refuses, with the status and the error's short name. */
    static final class ApiError extends RuntimeException {
        final int status;
        final String error;

        ApiError(int status, String error, String detail) {
            super(detail);
            this.status = status;
            this.error = error;
        }
    }

    /** The most entries, and the most bytes of values, one page of a list holds. */
    static final int MAX_PAGE_ENTRIES = 1000;
    static final long MAX_PAGE_BYTES = 4L << 20;
    private final EntenteNode node;
    private final AuditLog audit;
    /** Strict: a key given twice or anything after the value is an error, never settled silently. */
    private final ObjectMapper json = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    AdminApi(EntenteNode node, AuditLog audit) {
        this.node = node;
        this.audit = audit;
    }

    Response error(ApiError e) {
        ObjectNode o = json.createObjectNode().put("error", e.error).put("detail", e.getMessage());
        return Response.json(e.status, o, json);
    }

    /** Answers a request refused before it reached the API (no token, a wrong one), and audits it. */
    Response refused(ApiError e, String method, String path, String who) {
        audit.record(who, method + " " + path, "-", "refused: " + e.status + " " + e.error);
        return error(e);
    }

    /** Answers one authenticated {@code /v1} request; a change refused is audited like one made. */
    Response handle(String method, String path, Map<String, List<String>> query, String body, String who) {
        Response r = answer(method, path, query, body, who);
        if (r.status() >= 400 && !method.equals("GET")) {
            audit.record(who, method + " " + path, "-", "refused: " + r.status());
        }
        return r;
    }

    private Response answer(String method, String path, Map<String, List<String>> query, String body, String who) {
        try {
            return route(method, path, query, body, who);
        } catch (ApiError e) {
            return error(e);
        } catch (UnknownNamespaceException | EntryNotFoundException e) {
            return error(new ApiError(404, "not_found", e.getMessage()));
        } catch (EntryExistsException | UniquenessViolationException | PeerExistsException e) {
            return error(new ApiError(409, "conflict", e.getMessage()));
        } catch (LimitExceededException e) {
            // The engine names its own option; a node's operator sets the configuration's key.
            String key = switch (e.setting()) {
                case "maxValueBytes" -> "engine.maxValueSize";
                case "maxTransactionBytes" -> "engine.maxTransactionSize";
                default -> e.setting();
            };
            return error(new ApiError(413, "too_large", e.messageNaming(key)));
        } catch (InvalidWriteException | SchemaViolationException | ValidationException e) {
            return error(new ApiError(422, "invalid", e.getMessage()));
        } catch (RefreshRequiredException e) {
            return error(new ApiError(503, "refresh_required", e.getMessage()));
        } catch (FeedGapException e) {
            return error(new ApiError(410, "gone", e.getMessage()));
        } catch (dev.entente.engine.StoreException e) {
            // The store failed (a full disk, a broken file): not the request's fault.
            return error(new ApiError(503, "store_failed", e.getMessage()));
        } catch (EntenteException | IllegalArgumentException | IdentityException e) {
            return error(new ApiError(400, "bad_request", e.getMessage()));
        } catch (IllegalStateException e) {
            return error(new ApiError(500, "failed", e.getMessage()));
        }
    }

    private Response route(String method, String path, Map<String, List<String>> query, String body, String who) {
        ApiError unknown = Routes.refusal(method, path);
        if (unknown != null) {
            throw unknown;
        }
        List<String> p = segments(path);
        Engine e = node.engine();
        if (p.equals(List.of("v1", "status"))) {
            allow(method, "GET");
            return Response.json(200, status(), json);
        }
        if (p.equals(List.of("v1", "digest"))) {
            allow(method, "GET");
            Digest d = e.digest();
            return Response.json(200, json.createObjectNode().put("digest", d.hex()).put("entries", d.entries())
                    .put("tombstones", d.tombstones()).put("conflicts", d.conflicts()), json);
        }
        if (p.equals(List.of("v1", "namespaces"))) {
            allow(method, "GET");
            ArrayNode list = json.createArrayNode();
            for (Namespace ns : e.namespaces().values()) {
                list.add(namespace(ns));
            }
            return Response.json(200, json.createObjectNode().set("namespaces", list), json);
        }
        if (p.size() == 3 && p.get(0).equals("v1") && p.get(1).equals("namespaces")) {
            allow(method, "PUT");
            JsonNode b = body(body);
            Schema schema = new Schema(strings(b, "unique"), strings(b, "sets"), bool(b, "mergeConcurrentCreates"));
            Cid cid = e.transaction().defineNamespace(p.get(2), schema).commit();
            audit.record(who, "define-namespace", p.get(2), "ok");
            return Response.json(200, namespace(e.namespace(p.get(2)).orElseThrow()).put("changed", cid != null), json);
        }
        if (p.size() == 4 && p.get(0).equals("v1") && p.get(1).equals("namespaces") && p.get(3).equals("entries")) {
            String ns = p.get(2);
            if (method.equals("POST")) {
                JsonNode b = body(body);
                JsonNode idNode = b.get("id");
                if (idNode != null && !idNode.isTextual()) {
                    throw new ApiError(400, "bad_request", "id must be a string (a UUID), got " + idNode);
                }
                UUID id = idNode != null ? uuid(idNode.asText()) : e.newEntryId();
                Cid cid = e.transaction().create(ns, id, attributes(b.path("attrs"), "attrs")).commit();
                audit.record(who, "create", ns + "/" + id, "ok");
                return Response.json(201, json.createObjectNode().put("id", id.toString()).put("cid", String.valueOf(cid)), json);
            }
            allow(method, "GET");
            UUID after = query.containsKey("after") ? uuid(first(query, "after")) : null;
            int limit = query.containsKey("limit") ? Integer.parseInt(first(query, "limit")) : 100;
            if ("true".equals(first(query, "conflicts"))) {
                Page<ConflictedEntry> page = e.conflicts(ns, after, limit);
                ArrayNode items = json.createArrayNode();
                page.items().forEach(c -> items.add(conflict(c)));
                return Response.json(200, json.createObjectNode().<ObjectNode>set("items", items)
                        .put("next", page.nextAfter() == null ? null : page.nextAfter().toString()), json);
            }
            Page<Entry> page = e.list(ns, after, Math.min(limit, MAX_PAGE_ENTRIES));
            ArrayNode items = json.createArrayNode();
            // A page stops at MAX_PAGE_BYTES of values too, so that a page of large entries cannot
            // run the node out of memory: the rest comes with the next cursor.
            long bytes = 0;
            UUID next = page.nextAfter();
            for (Entry x : page.items()) {
                long size = x.attributes().bytes() + 16L * x.attributes().values().values().stream().mapToInt(List::size).sum();
                if (!items.isEmpty() && bytes + size > MAX_PAGE_BYTES) {
                    next = UUID.fromString(items.get(items.size() - 1).get("id").asText());
                    break;
                }
                bytes += size;
                items.add(entry(x));
            }
            return Response.json(200, json.createObjectNode().<ObjectNode>set("items", items)
                    .put("next", next == null ? null : next.toString()), json);
        }
        if (p.size() == 6 && p.get(0).equals("v1") && p.get(1).equals("namespaces") && p.get(3).equals("entries") && p.get(5).equals("discard")) {
            String ns = p.get(2);
            UUID id = uuid(p.get(4));
            Cid created = Cid.parse(requiredText(body(body), "created"));
            Cid cid = e.transaction().discardConflict(ns, id, created).commit();
            audit.record(who, "discard-conflict", ns + "/" + id + " version " + created.id(), "ok");
            return Response.json(200, json.createObjectNode().put("cid", String.valueOf(cid)), json);
        }
        if (p.size() == 5 && p.get(0).equals("v1") && p.get(1).equals("namespaces") && p.get(3).equals("entries")) {
            String ns = p.get(2);
            UUID id = uuid(p.get(4));
            switch (method) {
                case "GET" -> {
                    Entry x = e.get(ns, id).orElseThrow(() -> new ApiError(404, "not_found", e.isDeleted(ns, id)
                            ? "entry " + id + " in namespace '" + ns + "' was deleted"
                            : e.conflict(ns, id).isPresent() ? "entry " + id + " is conflicted: GET ...?conflicts=true lists it"
                            : "no entry " + id + " in namespace '" + ns + "'"));
                    return Response.json(200, entry(x), json);
                }
                case "DELETE" -> {
                    Cid cid = e.delete(ns, id);
                    audit.record(who, "delete", ns + "/" + id, "ok");
                    return Response.json(200, json.createObjectNode().put("cid", String.valueOf(cid)), json);
                }
                case "PATCH" -> {
                    JsonNode b = body(body);
                    List<AttributeChange> changes = new ArrayList<>();
                    for (var f : fields(b.path("set"), "set")) {
                        changes.add(new AttributeChange.Set(f.getKey(), values(f.getValue(), "set." + f.getKey())));
                    }
                    for (var f : fields(b.path("add"), "add")) {
                        changes.add(new AttributeChange.Add(f.getKey(), values(f.getValue(), "add." + f.getKey())));
                    }
                    for (var f : fields(b.path("remove"), "remove")) {
                        changes.add(new AttributeChange.Remove(f.getKey(), values(f.getValue(), "remove." + f.getKey())));
                    }
                    for (String a : strings(b, "clear")) {
                        changes.add(new AttributeChange.Clear(a));
                    }
                    if (changes.isEmpty()) {
                        throw new ApiError(400, "bad_request", "a PATCH needs set, add, remove or clear");
                    }
                    Cid cid = e.transaction().modify(ns, id, changes).commit();
                    audit.record(who, "modify", ns + "/" + id, "ok");
                    return Response.json(200, json.createObjectNode().put("cid", String.valueOf(cid)).put("changed", cid != null), json);
                }
                default -> throw new ApiError(405, "method_not_allowed", method + " is not allowed here; use GET, PATCH or DELETE");
            }
        }
        if (p.equals(List.of("v1", "changes"))) {
            allow(method, "GET");
            long cursor = cursor(query);
            int limit = query.containsKey("limit") ? Integer.parseInt(first(query, "limit")) : 100;
            long wait = query.containsKey("wait") ? Long.parseLong(first(query, "wait")) : 0;
            if (wait < 0 || wait > MAX_WAIT_SECONDS) {
                throw new ApiError(400, "bad_request", "wait is how many seconds to wait for a change, from 0 to " + MAX_WAIT_SECONDS + ", not " + wait);
            }
            ObjectNode page = changes(cursor, Math.min(limit, 1000));
            if (page.get("events").isEmpty() && wait > 0) {
                return new Response(200, "", "application/json", wait * 1000);
            }
            return Response.json(200, page, json);
        }
        if (p.equals(List.of("v1", "changes", "stream"))) {
            allow(method, "GET");
            long cursor = cursor(query);
            changes(cursor, 1);
            // The server streams from here (AdminServer.Stream), by changes(cursor, limit).
            return new Response(200, Long.toString(cursor), STREAM);
        }
        if (p.equals(List.of("v1", "peers"))) {
            return Response.json(200, peers(), json);
        }
        if (p.equals(List.of("v1", "peers", "consumers"))) {
            JsonNode b = body(body);
            String name = requiredText(b, "name");
            node.addConsumer(name, requiredText(b, "certificate"), bool(b, "mutual"));
            audit.record(who, "add-consumer", name, "ok");
            return Response.json(201, peers(), json);
        }
        if (p.equals(List.of("v1", "peers", "agreements"))) {
            JsonNode b = body(body);
            String name = requiredText(b, "name");
            JsonNode interval = b.get("interval");
            if (interval != null && !interval.isTextual()) {
                throw new ApiError(400, "bad_request", "interval must be a duration such as \"5s\", got " + interval);
            }
            JsonNode mode = b.get("mode");
            if (mode != null && !(mode.isTextual() && (mode.asText().equals("pull") || mode.asText().equals("mutual-pull")))) {
                throw new ApiError(400, "bad_request", "mode must be \"pull\" or \"mutual-pull\", got " + mode);
            }
            try {
                node.addAgreement(name, requiredText(b, "supplier"), requiredText(b, "certificate"),
                        interval == null ? java.time.Duration.ofSeconds(5) : dev.entente.config.ConfigLoader.duration(interval.asText()),
                        mode != null && mode.asText().equals("mutual-pull"), java.time.Duration.ofSeconds(15));
            } catch (IllegalStateException refused) {
                audit.record(who, "add-agreement", name, "refused: " + refused.getMessage());
                throw new ApiError(502, "supplier_refused", refused.getMessage());
            }
            audit.record(who, "add-agreement", name, "ok");
            return Response.json(201, peers(), json);
        }
        if (p.size() == 4 && p.get(0).equals("v1") && p.get(1).equals("peers")) {
            String name = p.get(3);
            boolean consumer = p.get(2).equals("consumers");
            if (!(consumer ? node.removeConsumer(name) : node.removeAgreement(name))) {
                throw new ApiError(404, "not_found", "no " + (consumer ? "consumer" : "agreement") + " named '" + name + "'");
            }
            audit.record(who, consumer ? "remove-consumer" : "remove-agreement", name, "ok");
            return Response.json(200, peers(), json);
        }
        if (p.equals(List.of("v1", "replication", "sync"))) {
            allow(method, "POST");
            String agreement = first(query, "agreement");
            ArrayNode results = json.createArrayNode();
            boolean ok = true;
            java.time.Duration timeout = java.time.Duration.ofSeconds(60);
            for (SyncResult r : agreement == null ? node.replication().syncAll(timeout) : List.of(node.replication().sync(agreement, timeout))) {
                results.addObject().put("agreement", r.agreement()).put("ok", r.ok()).put("applied", r.applied()).put("batches", r.batches())
                        .put("bytes", r.bytes()).put("millis", r.millis()).put("error", r.error());
                ok &= r.ok();
            }
            audit.record(who, "sync", agreement == null ? "all agreements" : agreement, ok ? "ok" : "failed");
            return Response.json(ok ? 200 : 502, json.createObjectNode().<ObjectNode>set("results", results)
                    .put("conflicts", e.digest().conflicts()), json);
        }
        if (p.equals(List.of("v1", "replication", "refresh"))) {
            allow(method, "POST");
            String from = first(query, "from");
            if (from == null) {
                throw new ApiError(400, "bad_request", "say which agreement to refresh from: ?from=<agreement>");
            }
            long start = System.nanoTime();
            AgreementStatus s = node.replication().refreshFrom(from, java.time.Duration.ofMinutes(30));
            audit.record(who, "refresh", from, e.refreshRequired().isEmpty() ? "ok" : "failed: " + s.lastError());
            return Response.json(200, json.createObjectNode().put("agreement", from).put("origin", e.originId().toString())
                    .put("millis", (System.nanoTime() - start) / 1_000_000).put("entries", e.digest().entries()).put("error", s.lastError()), json);
        }
        if (p.equals(List.of("v1", "backup"))) {
            allow(method, "POST");
            JsonNode b = body.isBlank() ? json.createObjectNode() : body(body);
            if (b.has("path")) {
                throw new ApiError(400, "bad_request", "a backup is written to the node's backup directory (backup.directory) under a file name:"
                        + " {\"name\": \"nightly.tar.gz\"}, not a path");
            }
            JsonNode n = b.get("name");
            if (n != null && !n.isTextual()) {
                throw new ApiError(400, "bad_request", "name must be a string");
            }
            JsonNode r = b.get("replace");
            if (r != null && !r.isBoolean()) {
                throw new ApiError(400, "bad_request", "replace must be true or false");
            }
            String name = n == null ? Backup.defaultName(node.config().name(), java.time.Instant.now()) : n.asText();
            long start = System.nanoTime();
            Backup.Result result;
            try {
                result = Backup.create(node, name, r != null && r.asBoolean());
            } catch (Backup.FileExistsException exists) {
                throw new ApiError(409, "conflict", exists.getMessage());
            }
            audit.record(who, "backup", result.file().toString(), "ok");
            return Response.json(200, json.createObjectNode().put("path", result.file().toString()).put("bytes", result.bytes())
                    .put("millis", (System.nanoTime() - start) / 1_000_000), json);
        }
        throw new ApiError(404, "not_found", "no such endpoint: " + method + " " + path);
    }

    /** The consumers and agreements in effect, each with where it comes from (node.yaml or run time). */
    private ObjectNode peers() {
        dev.entente.config.NodeConfig c = node.config();
        dev.entente.config.RuntimePeers rt = node.runtimePeers();
        ObjectNode o = json.createObjectNode();
        ArrayNode consumers = o.putArray("consumers");
        java.util.Map<String, Integer> sessions = new java.util.HashMap<>();
        node.replication().consumers().forEach(x -> sessions.put(x.name(), x.sessions()));
        for (dev.entente.config.NodeConfig.Peer p : c.consumers()) {
            consumers.addObject().put("name", p.name()).put("key", NodeIdentity.publicKeyFingerprint(NodeIdentity.parseCertificate(p.certificatePem(), p.name())))
                    .put("mutual", p.mutual()).put("source", rt.addedConsumers().contains(p) ? "run time" : "node.yaml")
                    .put("sessions", sessions.getOrDefault(p.name(), 0));
        }
        ArrayNode agreements = o.putArray("agreements");
        java.util.Map<String, AgreementStatus> states = new java.util.HashMap<>();
        node.replication().status().forEach(x -> states.put(x.name(), x));
        for (dev.entente.config.NodeConfig.AgreementConfig a : c.agreements()) {
            AgreementStatus st = states.get(a.name());
            agreements.addObject().put("name", a.name()).put("supplier", a.supplier().toString())
                    .put("key", NodeIdentity.publicKeyFingerprint(NodeIdentity.parseCertificate(a.certificatePem(), a.name())))
                    .put("mode", a.mode() == dev.entente.config.NodeConfig.Mode.PULL ? "pull" : "mutual-pull")
                    .put("interval", dev.entente.config.ConfigExport.duration(a.interval()))
                    .put("source", rt.addedAgreements().contains(a) ? "run time" : "node.yaml")
                    .put("state", st == null ? null : st.state().name());
        }
        return o;
    }

    private ObjectNode progress(Progress p) {
        return json.createObjectNode().put("unit", p.unit()).put("done", p.done()).put("total", p.total()).put("bytes", p.bytes())
                .put("elapsedMillis", p.elapsed().toMillis()).put("perSecond", Math.round(p.perSecond()))
                .put("secondsLeft", p.secondsLeft().isPresent() ? p.secondsLeft().getAsLong() : null);
    }

    private static String requiredText(JsonNode b, String key) {
        JsonNode v = b.get(key);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new ApiError(400, "bad_request", key + " is required, as a string");
        }
        return v.asText();
    }

    private ObjectNode status() {
        Engine e = node.engine();
        ObjectNode o = json.createObjectNode().put("node", node.config().name()).put("origin", e.originId().toString())
                .put("domain", e.domainId().toString()).put("refreshRequired", e.refreshRequired().orElse(null));
        ObjectNode ruv = o.putObject("ruv");
        // The raw HLC values for programs, and beside them the CIDs as a person reads them.
        e.ruv().origins().forEach((origin, r) -> ruv.putObject(origin.toString()).put("max", r.max()).put("trimmed", r.trimmed())
                .put("self", origin.equals(e.originId())).put("name", origin.equals(e.originId()) ? node.config().name() : node.replication().nameOf(origin))
                .put("maxCid", r.max() == 0 ? null : new Cid(r.max(), origin).toString())
                .put("trimmedCid", r.trimmed() == 0 ? null : new Cid(r.trimmed(), origin).toString()));
        ArrayNode agreements = o.putArray("agreements");
        for (AgreementStatus s : node.replication().status()) {
            agreements.addObject().put("name", s.name()).put("supplier", s.supplier()).put("state", s.state().name())
                    .put("lastSuccess", s.lastSuccess() == null ? null : s.lastSuccess().toString()).put("lastError", s.lastError())
                    .put("lagMillis", s.lagMillis()).put("changesApplied", s.changesApplied()).put("bytes", s.bytes()).put("refreshes", s.refreshes())
                    .set("refresh", s.refresh() == null ? null : progress(s.refresh()));
        }
        ArrayNode backups = o.putArray("backups");
        for (Backup.Running b : node.runningBackups()) {
            backups.addObject().put("name", b.name).set("progress", progress(b.progress()));
        }
        ArrayNode consumers = o.putArray("consumers");
        for (ReplicationNode.ConsumerStatus c : node.replication().consumers()) {
            consumers.addObject().put("name", c.name()).put("key", c.keyHash()).put("sessions", c.sessions())
                    .put("lastPulled", c.lastPulled() == null ? null : c.lastPulled().toString());
        }
        // The last refusals, both ways, naming the configured peer and its key: what an operator
        // looks at when a peer misbehaves (the log shows them at a bounded rate).
        List<RefusalLog.Refusal> recent = node.replication().refusals().recent();
        ArrayNode refusals = o.putArray("refusals");
        for (RefusalLog.Refusal r : recent.subList(Math.max(0, recent.size() - 20), recent.size())) {
            refusals.addObject().put("at", r.at().toString()).put("peer", r.peer()).put("key", r.key()).put("code", r.code().name())
                    .put("reason", r.reason());
        }
        o.put("refusalsNotLogged", node.replication().refusals().suppressed());
        List<ReplicationNode.SessionRecord> steps = node.replication().recentSessions();
        ArrayNode sessions = o.putArray("sessions");
        for (ReplicationNode.SessionRecord r : steps.subList(Math.max(0, steps.size() - 20), steps.size())) {
            sessions.addObject().put("at", r.at().toString()).put("who", r.who()).put("action", r.action()).put("target", r.target())
                    .put("result", r.result());
        }
        o.put("certificateNotAfter", node.identity().certificate().getNotAfter().toInstant().toString());
        node.warnings().forEach(o.putArray("warnings")::add);
        return o;
    }

    private ObjectNode namespace(Namespace ns) {
        ObjectNode o = json.createObjectNode().put("name", ns.name()).put("cid", String.valueOf(ns.cid()));
        ns.schema().uniqueAttributes().forEach(o.putArray("unique")::add);
        ns.schema().setAttributes().forEach(o.putArray("sets")::add);
        o.put("mergeConcurrentCreates", ns.schema().mergeConcurrentCreates());
        return o;
    }

    private ObjectNode entry(Entry x) {
        ObjectNode o = json.createObjectNode().put("id", x.id().toString()).put("created", String.valueOf(x.created()))
                .put("createdId", x.created().id());
        ObjectNode attrs = o.putObject("attrs");
        x.attributes().values().forEach((name, values) -> {
            ArrayNode a = attrs.putArray(name);
            values.forEach(v -> a.add(v.text()));
        });
        return o;
    }

    private ObjectNode conflict(ConflictedEntry c) {
        ObjectNode o = json.createObjectNode().put("id", c.id().toString());
        if (c.entry() != null) {
            o.set("entry", entry(c.entry()));
        }
        ArrayNode versions = o.putArray("conflictVersions");
        c.conflictVersions().forEach(v -> versions.add(entry(v)));
        ArrayNode clashes = o.putArray("uniqueClashes");
        c.uniqueClashes().forEach(u -> clashes.add(u.toString()));
        o.put("validationProblem", c.validationProblem());
        return o;
    }

    // ---- parsing

    private JsonNode body(String body) {
        if (body == null || body.isBlank()) {
            throw new ApiError(400, "bad_request", "a JSON body is needed");
        }
        try {
            JsonNode n = json.readTree(body);
            if (!n.isObject()) {
                throw new ApiError(400, "bad_request", "the body must be a JSON object");
            }
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ApiError(400, "bad_request", "the body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static Attributes attributes(JsonNode attrs, String path) {
        Attributes.Builder b = Attributes.builder();
        for (var f : fields(attrs, path)) {
            b.values(f.getKey(), values(f.getValue(), path + "." + f.getKey()));
        }
        return b.build();
    }

    private static List<Map.Entry<String, JsonNode>> fields(JsonNode n, String path) {
        List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
        if (n == null || n.isMissingNode() || n.isNull()) {
            return out;
        }
        if (!n.isObject()) {
            throw new ApiError(400, "bad_request", path + " must be an object of attribute names to lists of values");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }

    private static List<Value> values(JsonNode n, String path) {
        List<Value> out = new ArrayList<>();
        if (n.isTextual()) {
            out.add(Value.of(n.asText()));
            return out;
        }
        if (!n.isArray()) {
            throw new ApiError(400, "bad_request", path + " must be a string or a list of strings");
        }
        for (JsonNode v : n) {
            if (!v.isTextual()) {
                throw new ApiError(400, "bad_request", path + " holds a value that is not a string: " + v);
            }
            out.add(Value.of(v.asText()));
        }
        return out;
    }

    private static List<String> strings(JsonNode b, String key) {
        List<String> out = new ArrayList<>();
        JsonNode n = b.path(key);
        if (n.isMissingNode() || n.isNull()) {
            return out;
        }
        if (!n.isArray()) {
            throw new ApiError(400, "bad_request", key + " must be a list of strings");
        }
        for (JsonNode v : n) {
            if (!v.isTextual()) {
                throw new ApiError(400, "bad_request", key + " holds a value that is not a string: " + v);
            }
            out.add(v.asText());
        }
        return out;
    }

    /** A boolean field: true or false, absent for false; no "yes", no 1. */
    private static boolean bool(JsonNode b, String key) {
        JsonNode n = b.get(key);
        if (n == null || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw new ApiError(400, "bad_request", key + " must be true or false, got " + n);
        }
        return n.asBoolean();
    }

    /** Entry ids in their canonical form only (lower-case, 8-4-4-4-12), so that one entry has one name. */
    private static final java.util.regex.Pattern CANONICAL_UUID =
            java.util.regex.Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private static UUID uuid(String s) {
        if (s == null || !CANONICAL_UUID.matcher(s).matches()) {
            throw new ApiError(400, "bad_request", "'" + s + "' is not an entry id: a UUID in its canonical form, such as "
                    + "0f8fad5b-d9cb-469f-a165-70867728950e");
        }
        return UUID.fromString(s);
    }

    /** The longest a long poll of the change feed may wait, in seconds. */
    static final long MAX_WAIT_SECONDS = 55;

    /** The content type of the change feed's event stream (server-sent events). */
    static final String STREAM = "text/event-stream";

    private static long cursor(Map<String, List<String>> query) {
        long cursor = query.containsKey("cursor") ? Long.parseLong(first(query, "cursor")) : 0;
        if (cursor < 0) {
            throw new ApiError(400, "bad_request", "cursor is a sequence number of the change feed, 0 or more, not " + cursor);
        }
        return cursor;
    }

    /**
     * The change feed's events after {@code cursor}, at most {@code limit}, and the cursor to ask
     * from next.
     *
     * @throws FeedGapException the cursor is older than the trimmed feed
     */
    ObjectNode changes(long cursor, int limit) {
        ArrayNode events = json.createArrayNode();
        long next = cursor;
        for (FeedEvent ev : node.engine().feed().read(cursor, limit)) {
            event(events.addObject(), ev);
            next = ev.sequence();
        }
        return json.createObjectNode().<ObjectNode>set("events", events).put("cursor", next);
    }

    private static void event(ObjectNode o, FeedEvent ev) {
        o.put("sequence", ev.sequence()).put("cid", String.valueOf(ev.cid())).put("local", ev.local()).put("reset", ev.reset())
                .put("committed", ev.committed().toString());
        ArrayNode ch = o.putArray("changes");
        ev.changes().forEach(c -> ch.addObject().put("kind", c.kind().name().toLowerCase()).put("namespace", c.namespace())
                .put("id", c.id() == null ? null : c.id().toString()));
    }

    /** Calls {@code listener} after every commit, until the returned handle is closed. */
    AutoCloseable onCommit(Runnable listener) {
        return node.engine().addCommitListener(listener);
    }

    String json(Object o) {
        try {
            return json.writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    private static String first(Map<String, List<String>> query, String key) {
        List<String> v = query.get(key);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    private static void allow(String method, String allowed) {
        if (!method.equals(allowed)) {
            throw new ApiError(405, "method_not_allowed", method + " is not allowed here; use " + allowed);
        }
    }

    private static List<String> segments(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                out.add(java.net.URLDecoder.decode(s, java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return out;
    }
}
