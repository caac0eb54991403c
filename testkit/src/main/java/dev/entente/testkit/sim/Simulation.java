package dev.entente.testkit.sim;

import com.google.protobuf.ByteString;
import dev.entente.engine.AttributeChange;
import dev.entente.engine.Attributes;
import dev.entente.engine.ChangeBatch;
import dev.entente.engine.ChangeGapException;
import dev.entente.engine.ChangeStream;
import dev.entente.engine.Cid;
import dev.entente.engine.ClockSkewException;
import dev.entente.engine.ConflictedEntry;
import dev.entente.engine.Digest;
import dev.entente.engine.Engine;
import dev.entente.engine.EntenteException;
import dev.entente.engine.EntryExistsException;
import dev.entente.engine.EntryNotFoundException;
import dev.entente.engine.InProcessReplication;
import dev.entente.engine.InvalidWriteException;
import dev.entente.engine.RefreshRequiredException;
import dev.entente.engine.Ruv;
import dev.entente.engine.Schema;
import dev.entente.engine.SchemaViolationException;
import dev.entente.engine.SnapshotExport;
import dev.entente.engine.SupplierLaggingException;
import dev.entente.engine.Transaction;
import dev.entente.engine.UniquenessViolationException;
import dev.entente.testkit.model.ReferenceModel;
import dev.entente.testkit.model.VisibleState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

/**
 * A deterministic simulation of an Entente topology: real engines on real RocksDB directories,
 * driven by one seeded random source through a scheduler of events (local writes, pulls along
 * agreements, message deliveries, refreshes, window trimming, crashes and restarts, clock jumps,
 * partitions), over an in-memory network that drops, duplicates and reorders. Invariants are
 * checked after every event, and at the end once faults stop and the topology has quiesced; the
 * first violation throws an {@link InvariantViolation} that says how to replay the run.
 */
public final class Simulation implements AutoCloseable {

    static final long EPOCH = 1_800_000_000_000L;
    static final Duration TRIM_WINDOW = Duration.ofSeconds(4);
    static final String PEOPLE = "people";
    static final String KV = "kv";

    /** What one finished run saw. */
    public record Result(Scenario scenario, int acknowledged, int lost, int refreshes, int events, long simulatedMillis,
                         Digest digest, long dropped, long duplicated) {
    }

    private sealed interface Event {
    }

    private record LocalWrite(int node, UUID presetId) implements Event {
    }

    private record Pull(int consumer, int supplier) implements Event {
    }

    private record Deliver(SimMessage message) implements Event {
    }

    private record StartRefresh(int node) implements Event {
    }

    private record Trim(int node) implements Event {
    }

    private record Crash(int node, long downFor) implements Event {
    }

    private record Restart(int node) implements Event {
    }

    private record ClockJump(int node, long delta) implements Event {
    }

    private record Partition(Set<Integer> side, long duration) implements Event {
    }

    private record Heal() implements Event {
    }

    private record Scheduled(long time, long seq, Event event) {
    }

    private final Scenario scenario;
    private final Random random;
    private final Path root;
    private final List<SimNode> nodes = new ArrayList<>();
    private final List<int[]> agreements = new ArrayList<>();
    private final PriorityQueue<Scheduled> queue = new PriorityQueue<>(
            Comparator.comparingLong(Scheduled::time).thenComparingLong(Scheduled::seq));
    private final Router router;
    private final Map<Cid, ByteString> acknowledged = new LinkedHashMap<>();
    private final Set<Cid> lost = new HashSet<>();
    private final Map<List<Object>, Cid> deletions = new LinkedHashMap<>();
    private final List<List<Object>> known = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final Deque<String> trace = new ArrayDeque<>();
    private long now;
    private long seq;
    private long sessions;
    private long activeUntil;
    private int events;
    private int refreshes;

    public Simulation(Scenario scenario, Path root) {
        this.scenario = scenario;
        this.random = new Random(scenario.seed());
        this.root = root;
        this.router = new Router(scenario, random, (time, m) -> schedule(time, new Deliver(m)));
    }

    /** Runs a scenario in a temporary directory (on tmpfs when there is one) and cleans up. */
    public static Result run(Scenario scenario) {
        Path base = Path.of("/dev/shm");
        try {
            Path root = Files.isWritable(base) ? Files.createTempDirectory(base, "entente-sim") : Files.createTempDirectory("entente-sim");
            try (Simulation sim = new Simulation(scenario, root)) {
                return sim.run();
            } finally {
                dev.entente.testkit.TempDirs.delete(root);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void schedule(long time, Event e) {
        queue.add(new Scheduled(time, seq++, e));
    }

    private void note(String s) {
        trace.addLast(String.format("    %7d ms  %s", now, s));
        if (trace.size() > 40) {
            trace.removeFirst();
        }
    }

    private InvariantViolation violation(Invariant invariant, String detail) {
        return new InvariantViolation(invariant, scenario, now, detail, String.join("\n", trace));
    }

    // ---- setup

    private long wallClock(SimNode n) {
        return EPOCH + now + n.skew;
    }

    private void open(SimNode n) {
        Duration window = scenario.has(Scenario.Fault.TRIM) ? TRIM_WINDOW : Duration.ofDays(7);
        n.engine = Engine.open(n.options(() -> wallClock(n), window));
    }

    public Result run() {
        for (int i = 0; i < scenario.nodes(); i++) {
            SimNode n = new SimNode(i, root.resolve("n" + i), scenario.hub() && i == 0, random.nextLong());
            open(n);
            nodes.add(n);
        }
        for (int[] e : scenario.topology().edges(scenario.nodes())) {
            agreements.add(new int[] {e[0], e[1]});
            agreements.add(new int[] {e[1], e[0]});
        }
        SimNode first = nodes.get(0);
        acknowledge(first, first.engine.transaction()
                .defineNamespace(PEOPLE, Schema.builder().unique("name").set("memberof").build())
                .defineNamespace(KV, Schema.builder().set("tags").mergeConcurrentCreates(true).build())
                .commit());
        for (int i = 1; i < nodes.size(); i++) {
            InProcessReplication.refresh(nodes.get(i).engine, nodes.get(i).name, first.engine, first.name, 1 << 20);
        }
        for (SimNode n : nodes) {
            if (scenario.has(Scenario.Fault.CLOCK_SKEW)) {
                n.skew = random.nextInt(1001) - 500;
            }
            n.highestHlc = n.engine.lastHlc();
            n.durableHlc = n.engine.ruv().maxHlc();
        }
        activeUntil = 2000 + scenario.writes() * 80L;
        for (int i = 0; i < scenario.writes(); i++) {
            schedule(random.nextLong(activeUntil), new LocalWrite(random.nextInt(nodes.size()), null));
        }
        for (int[] a : agreements) {
            schedule(random.nextInt(300), new Pull(a[0], a[1]));
        }
        if (scenario.has(Scenario.Fault.TRIM)) {
            for (SimNode n : nodes) {
                schedule(500 + random.nextInt(1000), new Trim(n.index));
            }
        }
        if (scenario.has(Scenario.Fault.CRASH)) {
            for (int i = 0, c = 1 + random.nextInt(3); i < c; i++) {
                schedule(random.nextLong(activeUntil), new Crash(random.nextInt(nodes.size()), 100 + random.nextInt(2500)));
            }
        }
        if (scenario.has(Scenario.Fault.CLOCK_SKEW)) {
            for (int i = 0, c = 1 + random.nextInt(4); i < c; i++) {
                schedule(random.nextLong(activeUntil), new ClockJump(random.nextInt(nodes.size()), random.nextInt(1201) - 600));
            }
        }
        if (scenario.has(Scenario.Fault.PARTITION)) {
            for (int i = 0, c = 1 + random.nextInt(2); i < c; i++) {
                Set<Integer> side = new HashSet<>();
                side.add(random.nextInt(nodes.size()));
                if (nodes.size() > 3 && random.nextBoolean()) {
                    side.add(random.nextInt(nodes.size()));
                }
                long duration = 300 + random.nextInt(scenario.has(Scenario.Fault.TRIM) ? 7000 : 3000);
                schedule(random.nextLong(activeUntil), new Partition(side, duration));
            }
        }
        checkAll();
        while (!queue.isEmpty()) {
            Scheduled s = queue.poll();
            if (s.time() > activeUntil && !(s.event() instanceof Restart) && !(s.event() instanceof Heal)) {
                continue;
            }
            now = Math.max(now, s.time());
            events++;
            process(s.event());
        }
        now = Math.max(now, activeUntil);
        quiesce();
        Digest digest = validate();
        return new Result(scenario, acknowledged.size(), lost.size(), refreshes, events, now, digest, router.dropped(), router.duplicated());
    }

    // ---- events

    private void process(Event e) {
        try {
            if (e instanceof LocalWrite w) {
                localWrite(nodes.get(w.node()), w.presetId());
            } else if (e instanceof Pull p) {
                pull(p);
            } else if (e instanceof Deliver d) {
                deliver(d.message());
            } else if (e instanceof StartRefresh r) {
                startRefresh(nodes.get(r.node()));
            } else if (e instanceof Trim t) {
                trim(nodes.get(t.node()));
            } else if (e instanceof Crash c) {
                crash(nodes.get(c.node()), c.downFor());
            } else if (e instanceof Restart r) {
                restart(nodes.get(r.node()));
            } else if (e instanceof ClockJump j) {
                SimNode n = nodes.get(j.node());
                n.skew = Math.max(-900, Math.min(900, n.skew + j.delta()));
                note(n.name + " clock jumps " + j.delta() + " ms, skew now " + n.skew + " ms");
            } else if (e instanceof Partition p) {
                for (int a : p.side()) {
                    for (SimNode b : nodes) {
                        if (!p.side().contains(b.index)) {
                            router.block(a, b.index);
                        }
                    }
                }
                note("partition cuts off " + p.side() + " for " + p.duration() + " ms");
                schedule(now + p.duration(), new Heal());
            } else if (e instanceof Heal) {
                router.healAll();
                note("partitions heal");
            }
        } catch (InvariantViolation v) {
            throw v;
        } catch (RuntimeException ex) {
            throw violation(Invariant.NO_ERROR, ex.toString() + stack(ex));
        }
        checkAll();
    }

    private static String stack(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement el : t.getStackTrace()) {
            if (sb.length() > 1500) {
                break;
            }
            sb.append("\n      at ").append(el);
        }
        return sb.toString();
    }

    private String newName() {
        String name = "u" + random.nextInt(Math.max(8, scenario.writes()));
        names.add(name);
        return name;
    }

    private <T> T pick(List<T> list) {
        return list.isEmpty() ? null : list.get(random.nextInt(list.size()));
    }

    private void localWrite(SimNode n, UUID presetId) {
        if (!n.up() || n.hub || n.lagging()) {
            return;
        }
        Engine e = n.engine;
        Transaction tx = e.transaction();
        String what;
        List<Object> deleted = null;
        int dice = random.nextInt(100);
        if (presetId != null) {
            what = "create (concurrent) " + presetId;
            tx.create(PEOPLE, presetId, Attributes.ofText("name", newName(), "mail", n.name + "@x"));
        } else if (dice < 35) {
            UUID id = e.newEntryId();
            known.add(List.of(PEOPLE, id));
            what = "create " + id;
            tx.create(PEOPLE, id, Attributes.builder().text("name", newName()).text("mail", "m" + random.nextInt(1000))
                    .text("memberof", "g" + random.nextInt(5)).build());
        } else if (dice < 50 && !known.isEmpty()) {
            List<Object> ref = pick(known);
            what = "modify mail of " + ref.get(1);
            tx.modify((String) ref.get(0), (UUID) ref.get(1), AttributeChange.set("mail", "m" + random.nextInt(1000)));
        } else if (dice < 65 && !known.isEmpty()) {
            List<Object> ref = pick(known);
            String g = "g" + random.nextInt(5);
            boolean add = random.nextBoolean();
            what = (add ? "add " : "remove ") + g + " of " + ref.get(1);
            if (ref.get(0).equals(PEOPLE)) {
                tx.modify(PEOPLE, (UUID) ref.get(1), add ? AttributeChange.add("memberof", g) : AttributeChange.remove("memberof", g));
            } else {
                tx.modify(KV, (UUID) ref.get(1), add ? AttributeChange.add("tags", g) : AttributeChange.remove("tags", g));
            }
        } else if (dice < 75 && !known.isEmpty()) {
            deleted = pick(known);
            what = "delete " + deleted.get(1);
            tx.delete((String) deleted.get(0), (UUID) deleted.get(1));
        } else if (dice < 80 && !known.isEmpty() && !names.isEmpty()) {
            List<Object> ref = pick(known);
            String name = pick(names);
            what = "rename " + ref.get(1) + " to " + name;
            tx.modify((String) ref.get(0), (UUID) ref.get(1), AttributeChange.set("name", name));
        } else if (dice < 86) {
            UUID id = e.newEntryId();
            known.add(List.of(PEOPLE, id));
            SimNode other = nodes.get(random.nextInt(nodes.size()));
            what = "create " + id + ", created concurrently on " + other.name;
            tx.create(PEOPLE, id, Attributes.ofText("name", newName(), "mail", n.name + "@x"));
            schedule(now + random.nextInt(20), new LocalWrite(other.index, id));
        } else if (dice < 93) {
            UUID id = random.nextInt(3) == 0 && !known.isEmpty() && known.get(0).get(0).equals(KV) ? (UUID) known.get(0).get(1) : e.newEntryId();
            known.add(0, List.of(KV, id));
            what = "kv create " + id;
            tx.create(KV, id, Attributes.ofText("k" + random.nextInt(3), "v" + random.nextInt(5)));
            if (random.nextBoolean()) {
                schedule(now + random.nextInt(20), new LocalWrite(nodes.get(random.nextInt(nodes.size())).index, null));
            }
        } else if (dice < 96) {
            boolean uniqueMail = random.nextBoolean();
            what = "schema of people: mail " + (uniqueMail ? "unique" : "not unique");
            tx.defineNamespace(PEOPLE, uniqueMail ? Schema.builder().unique("name", "mail").set("memberof").build()
                    : Schema.builder().unique("name").set("memberof").build());
        } else {
            var page = e.conflicts(PEOPLE, null, 10).items();
            ConflictedEntry c = pick(page);
            if (c == null || c.conflictVersions().isEmpty()) {
                return;
            }
            what = "discard conflict version " + c.conflictVersions().get(0).created() + " of " + c.id();
            tx.discardConflict(PEOPLE, c.id(), c.conflictVersions().get(0).created());
        }
        Cid cid;
        try {
            cid = tx.commit();
        } catch (UniquenessViolationException | EntryExistsException | EntryNotFoundException | SchemaViolationException
                 | InvalidWriteException ex) {
            note(n.name + " " + what + ": refused (" + ex.getClass().getSimpleName() + ")");
            return;
        }
        note(n.name + " " + what + " -> " + cid);
        acknowledge(n, cid);
        if (deleted != null && cid != null) {
            deletions.putIfAbsent(deleted, cid);
        }
    }

    private void acknowledge(SimNode n, Cid cid) {
        if (cid == null) {
            return;
        }
        acknowledged.put(cid, n.engine.changeRecord(cid).orElseThrow(
                () -> violation(Invariant.NO_LOST_WRITE, "the record of acknowledged change " + cid + " is not in " + n.name + "'s changelog")));
    }

    private void pull(Pull p) {
        if (now < activeUntil) {
            schedule(now + 150 + random.nextInt(250), p);
        }
        SimNode c = nodes.get(p.consumer());
        SimNode s = nodes.get(p.supplier());
        if (!c.up()) {
            return;
        }
        if (c.lagging()) {
            scheduleRefresh(c);
            return;
        }
        if (c.pulls.values().stream().anyMatch(x -> x.supplier == s.index)) {
            return;
        }
        long id = ++sessions;
        c.pulls.put(id, new SimNode.PullSession(s.index));
        router.send(now, new SimMessage.PullRequest(c.index, s.index, id, c.engine.ruv()));
    }

    private void deliver(SimMessage m) {
        SimNode to = nodes.get(m.to());
        SimNode from = nodes.get(m.from());
        if (!to.up() || !router.reachable(m.from(), m.to())) {
            return;
        }
        if (m instanceof SimMessage.PullRequest r) {
            supply(to, from, r);
        } else if (m instanceof SimMessage.Batch b) {
            SimNode.PullSession session = to.pulls.get(b.session());
            if (session == null) {
                return;
            }
            try {
                var result = to.engine.applyChanges(b.batch(), from.name);
                note(to.name + " applied batch " + b.index() + " from " + from.name + ": " + result.applied() + " new, " + result.skipped() + " skipped");
            } catch (ChangeGapException | ClockSkewException ex) {
                note(to.name + " aborts the pull from " + from.name + ": " + ex.getClass().getSimpleName());
                to.pulls.remove(b.session());
            } catch (RefreshRequiredException ex) {
                note(to.name + " must refresh: " + ex.getMessage());
                to.pulls.remove(b.session());
                to.refreshFrom = from.index;
                scheduleRefresh(to);
            }
        } else if (m instanceof SimMessage.End end) {
            to.pulls.remove(end.session());
        } else if (m instanceof SimMessage.Refused r) {
            to.pulls.remove(r.session());
            if (to.refresh != null && to.refresh.id == r.session()) {
                abortRefresh(to, "refused by " + from.name + ": " + r.code());
                return;
            }
            note(to.name + " refused by " + from.name + ": " + r.code());
            if (r.code().equals("REFRESH_REQUIRED") && !to.lagging()) {
                to.engine.markRefreshRequired(r.reason());
                to.refreshFrom = from.index;
                scheduleRefresh(to);
            }
        } else if (m instanceof SimMessage.RefreshRequest r) {
            exportTo(to, from, r.session());
        } else if (m instanceof SimMessage.Chunk c) {
            chunk(to, c);
        }
    }

    private void supply(SimNode s, SimNode c, SimMessage.PullRequest r) {
        try (ChangeStream stream = s.engine.supplyChanges(r.ruv(), c.name)) {
            int maxRecords = 1 + random.nextInt(5);
            int count = 0;
            ChangeBatch b;
            while ((b = stream.next(maxRecords, 1 << 20)) != null) {
                router.send(now, new SimMessage.Batch(s.index, c.index, r.session(), count++, b));
            }
            router.send(now, new SimMessage.End(s.index, c.index, r.session(), count, stream.supplierRuv()));
        } catch (SupplierLaggingException ex) {
            note(s.name + " finds itself stale while supplying " + c.name);
            router.send(now, new SimMessage.Refused(s.index, c.index, r.session(), "SUPPLIER_LAGGING", ex.getMessage()));
            s.refreshFrom = c.index;
            scheduleRefresh(s);
        } catch (RefreshRequiredException ex) {
            String code = s.lagging() ? "NOT_SERVING" : "REFRESH_REQUIRED";
            router.send(now, new SimMessage.Refused(s.index, c.index, r.session(), code, ex.getMessage()));
        }
    }

    private void scheduleRefresh(SimNode n) {
        if (!n.refreshScheduled && n.refresh == null) {
            n.refreshScheduled = true;
            schedule(now + 50 + random.nextInt(200), new StartRefresh(n.index));
        }
    }

    private void startRefresh(SimNode n) {
        n.refreshScheduled = false;
        if (!n.up() || !n.lagging() || n.refresh != null) {
            return;
        }
        List<SimNode> healthy = new ArrayList<>();
        for (SimNode s : nodes) {
            if (s != n && s.up() && !s.lagging() && router.reachable(n.index, s.index)) {
                healthy.add(s);
            }
        }
        SimNode s = n.refreshFrom >= 0 && healthy.contains(nodes.get(n.refreshFrom)) ? nodes.get(n.refreshFrom) : pick(healthy);
        if (s == null) {
            n.refreshScheduled = true;
            schedule(now + 500, new StartRefresh(n.index));
            return;
        }
        n.refresh = new SimNode.RefreshSession(++sessions, s.index);
        note(n.name + " starts a refresh from " + s.name);
        router.send(now, new SimMessage.RefreshRequest(n.index, s.index, n.refresh.id));
    }

    private void exportTo(SimNode s, SimNode c, long session) {
        try (SnapshotExport export = s.engine.exportSnapshot(c.name)) {
            long chunkBytes = 2048 + random.nextInt(8192);
            List<ByteString> chunks = new ArrayList<>();
            ByteString chunk;
            while ((chunk = export.nextChunk(chunkBytes)) != null) {
                chunks.add(chunk);
            }
            for (int i = 0; i < chunks.size(); i++) {
                router.send(now, new SimMessage.Chunk(s.index, c.index, session, i, chunks.get(i), i == chunks.size() - 1));
            }
        } catch (RefreshRequiredException ex) {
            router.send(now, new SimMessage.Refused(s.index, c.index, session, "NOT_SERVING", ex.getMessage()));
        }
    }

    private void chunk(SimNode n, SimMessage.Chunk c) {
        SimNode.RefreshSession r = n.refresh;
        if (r == null || r.id != c.session()) {
            return;
        }
        if (c.index() != r.nextChunk) {
            abortRefresh(n, "chunk " + c.index() + " arrived where " + r.nextChunk + " was expected");
            return;
        }
        if (r.imp == null) {
            r.imp = n.engine.beginRefresh(nodes.get(r.supplier).name);
        }
        r.imp.accept(c.bytes());
        r.nextChunk++;
        if (c.last()) {
            r.imp.complete();
            r.imp.close();
            n.refresh = null;
            refreshes++;
            note(n.name + " refreshed from " + nodes.get(r.supplier).name + ", new origin " + n.engine.originId().shortForm());
            accountLosses(n);
            n.highestHlc = Math.max(n.highestHlc, n.engine.lastHlc());
            n.durableHlc = Math.max(n.durableHlc, n.engine.ruv().maxHlc());
        }
    }

    private void abortRefresh(SimNode n, String why) {
        if (n.refresh.imp != null) {
            n.refresh.imp.close();
        }
        n.refresh = null;
        note(n.name + " abandons its refresh: " + why);
        scheduleRefresh(n);
    }

    /** After a refresh replaced a node's content, the changes no other node holds are gone. */
    private void accountLosses(SimNode refreshed) {
        for (Cid cid : acknowledged.keySet()) {
            if (lost.contains(cid)) {
                continue;
            }
            boolean somewhere = false;
            for (SimNode other : nodes) {
                if (other.ruv().max(cid.origin()) >= cid.hlc()) {
                    somewhere = true;
                    break;
                }
            }
            if (!somewhere) {
                lost.add(cid);
                note("change " + cid + " was only on " + refreshed.name + " and is lost with its refresh");
            }
        }
    }

    private void trim(SimNode n) {
        if (now < activeUntil) {
            schedule(now + 800 + random.nextInt(400), new Trim(n.index));
        }
        if (!n.up()) {
            return;
        }
        var r = n.engine.trimWindow();
        if (r.changesTrimmed() + r.tombstonesReaped() > 0) {
            note(n.name + " trims " + r.changesTrimmed() + " changes, reaps " + r.tombstonesReaped() + " tombstones");
        }
    }

    private void crash(SimNode n, long downFor) {
        if (!n.up()) {
            return;
        }
        n.ruvWhileDown = n.engine.ruv();
        if (n.refresh != null) {
            if (n.refresh.imp != null) {
                n.refresh.imp.close();
            }
            n.refresh = null;
        }
        n.pulls.clear();
        n.engine.close();
        n.engine = null;
        note(n.name + " crashes for " + downFor + " ms");
        schedule(now + downFor, new Restart(n.index));
    }

    private void restart(SimNode n) {
        if (n.up()) {
            return;
        }
        open(n);
        n.refreshScheduled = false;
        note(n.name + " restarts");
        if (n.lagging()) {
            scheduleRefresh(n);
        }
    }

    // ---- invariants after every event

    private void checkAll() {
        for (SimNode n : nodes) {
            if (n.up()) {
                check(n);
            }
        }
    }

    private void check(SimNode n) {
        long hlc = n.engine.lastHlc();
        if (hlc < n.highestHlc && hlc < n.durableHlc) {
            throw violation(Invariant.HLC_MONOTONIC, n.name + "'s clock shows " + hlc + " after showing " + n.highestHlc
                    + " (its last durable change is " + n.durableHlc + ")");
        }
        if (hlc < n.durableHlc) {
            throw violation(Invariant.HLC_MONOTONIC, n.name + "'s clock " + hlc + " is behind its last durable change " + n.durableHlc);
        }
        n.highestHlc = Math.max(n.highestHlc, hlc);
        n.durableHlc = Math.max(n.durableHlc, n.engine.ruv().maxHlc());
        List<String> problems = n.engine.checkIntegrity();
        if (!problems.isEmpty()) {
            throw violation(Invariant.RUV_INVARIANT, n.name + ": " + problems);
        }
        Ruv ruv = n.engine.ruv();
        for (Map.Entry<List<Object>, Cid> d : deletions.entrySet()) {
            Cid cid = d.getValue();
            if (ruv.max(cid.origin()) >= cid.hlc()) {
                String ns = (String) d.getKey().get(0);
                UUID id = (UUID) d.getKey().get(1);
                boolean shown = n.engine.get(ns, id).isPresent() || n.engine.conflict(ns, id).map(c -> c.entry() != null).orElse(false);
                if (shown) {
                    throw violation(Invariant.NO_RESURRECTION, n.name + " shows " + ns + "/" + id + " although it has applied its deletion " + cid);
                }
            }
        }
    }

    // ---- the end

    /** Stops the faults and lets every agreement pull until nothing moves. */
    private void quiesce() {
        queue.clear();
        router.healAll();
        note("faults stop; the topology quiesces");
        for (SimNode n : nodes) {
            if (!n.up()) {
                open(n);
            }
            if (n.refresh != null) {
                if (n.refresh.imp != null) {
                    n.refresh.imp.close();
                }
                n.refresh = null;
            }
            n.pulls.clear();
        }
        checkAll();
        for (int round = 0; round < 60; round++) {
            now += 50;
            boolean moved = false;
            for (SimNode n : nodes) {
                if (n.lagging()) {
                    SimNode s = n.refreshFrom >= 0 && !nodes.get(n.refreshFrom).lagging() ? nodes.get(n.refreshFrom)
                            : nodes.stream().filter(x -> x != n && !x.lagging()).findFirst().orElseThrow(
                            () -> violation(Invariant.CONVERGENCE, "every node needs a refresh: nobody can supply one"));
                    InProcessReplication.refresh(n.engine, n.name, s.engine, s.name, 1 << 16);
                    refreshes++;
                    note(n.name + " refreshed from " + s.name + " while quiescing");
                    accountLosses(n);
                    moved = true;
                    checkAll();
                }
            }
            for (int[] a : agreements) {
                SimNode c = nodes.get(a[0]);
                SimNode s = nodes.get(a[1]);
                if (c.lagging() || s.lagging()) {
                    moved = true;
                    continue;
                }
                try {
                    var r = InProcessReplication.pull(c.engine, c.name, s.engine, s.name, 50);
                    moved |= r.applied() > 0;
                } catch (RefreshRequiredException ex) {
                    note(c.name + " pulling " + s.name + ": " + ex.getClass().getSimpleName());
                    c.refreshFrom = s.index;
                    moved = true;
                } catch (SupplierLaggingException ex) {
                    note(c.name + " pulling " + s.name + ": " + ex.getClass().getSimpleName());
                    s.refreshFrom = c.index;
                    moved = true;
                }
                checkAll();
            }
            if (!moved) {
                break;
            }
        }
        if (scenario.has(Scenario.Fault.TRIM)) {
            // Nodes reap tombstones by their own clocks, so their digests agree only once every
            // node has reaped the same ones: let the window pass everywhere, then trim.
            now += 2 * TRIM_WINDOW.toMillis() + 2000;
            for (SimNode n : nodes) {
                var r = n.engine.trimWindow();
                note(n.name + " final trim: " + r.changesTrimmed() + " changes, " + r.tombstonesReaped() + " tombstones");
                check(n);
            }
        }
    }

    private Digest validate() {
        // The most specific check first: conflict flags are part of the digest too.
        VisibleState first = VisibleState.of(nodes.get(0).engine);
        for (int i = 1; i < nodes.size(); i++) {
            VisibleState other = VisibleState.of(nodes.get(i).engine);
            if (!first.conflicted().equals(other.conflicted())) {
                throw violation(Invariant.CONFLICT_CONVERGENCE, first.differences(other, nodes.get(0).name, nodes.get(i).name));
            }
        }
        List<Digest> digests = new ArrayList<>();
        for (SimNode n : nodes) {
            digests.add(n.engine.digest());
        }
        if (digests.stream().distinct().count() != 1) {
            StringBuilder sb = new StringBuilder("digests differ:");
            for (int i = 0; i < nodes.size(); i++) {
                sb.append(' ').append(nodes.get(i).name).append('=').append(digests.get(i));
            }
            for (int i = 1; i < nodes.size(); i++) {
                String d = first.differences(VisibleState.of(nodes.get(i).engine), nodes.get(0).name, nodes.get(i).name);
                if (!d.isEmpty()) {
                    sb.append('\n').append(d);
                }
            }
            throw violation(Invariant.CONVERGENCE, sb.toString());
        }
        if (!lost.isEmpty() && !scenario.has(Scenario.Fault.TRIM)) {
            // Without trimming no node can fall behind the window, so no refresh may discard a write.
            throw violation(Invariant.NO_LOST_WRITE, lost.size() + " acknowledged changes were discarded by refreshes, "
                    + "but nothing was trimmed, so no refresh was needed: " + lost);
        }
        Ruv ruv = nodes.get(0).engine.ruv();
        ReferenceModel model = new ReferenceModel();
        for (Map.Entry<Cid, ByteString> a : acknowledged.entrySet()) {
            if (lost.contains(a.getKey())) {
                continue;
            }
            if (ruv.max(a.getKey().origin()) < a.getKey().hlc()) {
                throw violation(Invariant.NO_LOST_WRITE, "acknowledged change " + a.getKey() + " is not in the converged state (RUV " + ruv + ")");
            }
            model.apply(a.getValue());
        }
        VisibleState expected = model.expected();
        String d = expected.differences(first, "model", nodes.get(0).name);
        if (!d.isEmpty()) {
            throw violation(Invariant.MODEL_EQUIVALENCE, "\n" + d);
        }
        return digests.get(0);
    }

    @Override
    public void close() {
        for (SimNode n : nodes) {
            if (n.refresh != null && n.refresh.imp != null) {
                n.refresh.imp.close();
            }
            if (n.engine != null) {
                n.engine.close();
                n.engine = null;
            }
        }
    }

}
