package dev.entente.testkit.sim;

import com.google.protobuf.ByteString;
import dev.entente.engine.AttributeChange;
import dev.entente.engine.Attributes;
import dev.entente.engine.clock.Cid;
import dev.entente.engine.ConflictedEntry;
import dev.entente.engine.Digest;
import dev.entente.engine.Engine;
import dev.entente.engine.EntryExistsException;
import dev.entente.engine.EntryNotFoundException;
import dev.entente.engine.InvalidWriteException;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.RefreshRequiredException;
import dev.entente.engine.Ruv;
import dev.entente.engine.Schema;
import dev.entente.engine.SchemaViolationException;
import dev.entente.engine.Transaction;
import dev.entente.engine.UniquenessViolationException;
import dev.entente.engine.session.AgreementSettings;
import dev.entente.engine.session.AgreementStatus;
import dev.entente.engine.session.ConsumerAgreement;
import dev.entente.engine.session.ConsumerSession;
import dev.entente.engine.session.Frames;
import dev.entente.engine.session.InProcessReplication;
import dev.entente.engine.session.Link;
import dev.entente.engine.session.Scheduler;
import dev.entente.engine.session.SessionOptions;
import dev.entente.engine.session.SupplierSession;
import dev.entente.protocol.SessionMessages.Error.Code;
import dev.entente.protocol.SessionMessages.Frame;
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
import java.util.TreeMap;
import java.util.UUID;

/**
 * A deterministic simulation of an Entente topology: real engines on real RocksDB directories,
 * each running the session classes a node runs ({@link ConsumerAgreement} for each of its
 * agreements, a {@link SupplierSession} for each consumer connected to it), driven by one seeded
 * random source through a scheduler of events (local writes, timers of the sessions, frame
 * deliveries, connection attempts, window trimming, crashes and restarts, clock jumps,
 * partitions), over an in-memory network that drops, duplicates, delays and reorders frames and
 * cuts connections. Invariants are checked after every event, and at the end once faults stop
 * and the topology has quiesced; the first violation throws an {@link InvariantViolation} that
 * says how to replay the run.
 */
public final class Simulation implements AutoCloseable {

    static final long EPOCH = 1_800_000_000_000L;
    static final Duration TRIM_WINDOW = Duration.ofSeconds(4);
    static final String PEOPLE = "people";
    static final String KV = "kv";
    /** How long the topology may take to converge once faults stop. */
    static final long QUIESCE_LIMIT_MILLIS = 60_000;

    /** What one finished run saw. */
    public record Result(Scenario scenario, int acknowledged, int lost, int refreshes, int events, long simulatedMillis,
                         Digest digest, long dropped, long duplicated) {
    }

    private sealed interface Event {
    }

    private record LocalWrite(int node, UUID presetId) implements Event {
    }

    /** A session's timer (or a commit listener's wake-up) on one incarnation of a node. */
    private static final class Timer implements Event {
        final int node;
        final int incarnation;
        final Runnable task;
        boolean cancelled;

        Timer(int node, int incarnation, Runnable task) {
            this.node = node;
            this.incarnation = incarnation;
            this.task = task;
        }
    }

    /** A frame (or, with none, the connection's end) reaching one side of a connection. */
    private record Deliver(SimConnection connection, boolean toSupplier, Frame frame) implements Event {
    }

    /** A connection attempt reaching the supplier. */
    private record Arrive(int consumer, int incarnation, int supplier, ConsumerAgreement agreement, long attempt) implements Event {
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
    private final SessionOptions options;
    private final List<SimConnection> connections = new ArrayList<>();
    private final Map<Cid, ByteString> acknowledged = new LinkedHashMap<>();
    private final Set<Cid> lost = new HashSet<>();
    private final Map<List<Object>, Cid> deletions = new LinkedHashMap<>();
    private final List<List<Object>> known = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final Deque<String> trace = new ArrayDeque<>();
    private long now;
    private long seq;
    private long connectionIds;
    private long activeUntil;
    private boolean quiescing;
    /** Heals and restarts still to come: the faults' phase lasts until the last of them. */
    private int recoveries;
    private int events;
    private int refreshes;
    private int operatorRefreshes;
    /** The SPLIT refusals the simulated operator has answered: each once. */
    private final Set<ConsumerAgreement.Failure> operated = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    public Simulation(Scenario scenario, Path root) {
        this.scenario = scenario;
        this.random = new Random(scenario.seed());
        this.root = root;
        this.router = new Router(scenario, random);
        // Small batches and credit so that a few writes make many frames; short timings so that a
        // failure costs simulated milliseconds, not seconds.
        this.options = new SessionOptions(1 + random.nextInt(4), 1 + random.nextInt(5), 1 << 20, Duration.ofSeconds(2),
                Duration.ofMillis(20), Duration.ofSeconds(2), Duration.ofSeconds(1));
    }

    /** The sessions' own log lines, thousands per run, say what the trace of a failed run says: silenced. */
    static {
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.entente.engine.session")).setLevel(ch.qos.logback.classic.Level.OFF);
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
        if (e instanceof Heal || e instanceof Restart) {
            recoveries++;
        }
        queue.add(new Scheduled(time, seq++, e));
    }

    /** How many of the last events a failure shows; {@code -Dentente.sim.trace=N} shows more. */
    private static final int TRACE_LINES = Integer.getInteger("entente.sim.trace", 40);

    private void note(String s) {
        trace.addLast(String.format("    %7d ms  %s", now, s));
        if (trace.size() > TRACE_LINES) {
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
            agreements.add(new int[] {e[0], e[1], 150 + random.nextInt(250)});
            agreements.add(new int[] {e[1], e[0], 150 + random.nextInt(250)});
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
        for (SimNode n : nodes) {
            startAgreements(n);
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
                long duration = 300 + random.nextInt(scenario.has(Scenario.Fault.LONG_SPLIT) ? 7000 : 1700);
                schedule(random.nextLong(activeUntil), new Partition(side, duration));
            }
        }
        checkAll();
        // Past the active phase nothing new goes wrong, but partitions and crashes last their
        // whole time, with the window trimming on both sides meanwhile.
        while (!queue.isEmpty() && (queue.peek().time() <= activeUntil || recoveries > 0)) {
            Scheduled s = queue.poll();
            Event e = s.event();
            if (s.time() > activeUntil && (e instanceof LocalWrite || e instanceof Crash || e instanceof Partition || e instanceof ClockJump)) {
                continue;
            }
            step(s);
        }
        now = Math.max(now, activeUntil);
        quiesce();
        Digest digest = validate();
        return new Result(scenario, acknowledged.size(), lost.size(), refreshes, events, now, digest, router.dropped(), router.duplicated());
    }

    private void step(Scheduled s) {
        now = Math.max(now, s.time());
        events++;
        process(s.event());
    }

    // ---- the sessions, as a node runs them

    /** Starts one {@link ConsumerAgreement} for each agreement of the node (at start and at each restart). */
    private void startAgreements(SimNode n) {
        for (int[] a : agreements) {
            if (a[0] != n.index) {
                continue;
            }
            SimNode s = nodes.get(a[1]);
            AgreementSettings settings = new AgreementSettings(n.name + "<-" + s.name, s.name, Duration.ofMillis(a[2]), true, 0);
            ConsumerAgreement[] self = new ConsumerAgreement[1];
            ConsumerAgreement agreement = new ConsumerAgreement(settings, n.engine, n.name, options, scheduler(n), new Random(random.nextLong()),
                    attempt -> schedule(now + router.latency(n.index, s.index), new Arrive(n.index, n.incarnation, s.index, self[0], attempt)),
                    events(n));
            self[0] = agreement;
            n.agreements.add(new SimNode.Watched(agreement, s.index));
            agreement.start();
        }
    }

    private Scheduler scheduler(SimNode n) {
        int incarnation = n.incarnation;
        return new Scheduler() {
            @Override
            public long nanoTime() {
                return now * 1_000_000L;
            }

            @Override
            public Timer schedule(long delayMillis, Runnable task) {
                Simulation.Timer t = new Simulation.Timer(n.index, incarnation, task);
                Simulation.this.schedule(now + Math.max(0, delayMillis), t);
                return () -> t.cancelled = true;
            }
        };
    }

    private SupplierSession.Events events(SimNode n) {
        return new SupplierSession.Events() {
            @Override
            public void refused(String peer, Code code, String reason) {
                note(n.name + " / " + peer + ": " + code + " " + (reason.length() > 120 ? reason.substring(0, 120) + "..." : reason));
            }

            @Override
            public void refreshed(String agreement) {
                refreshes++;
                // A clone of its supplier's snapshot now: it holds what its new RUV says.
                Ruv ruv = n.engine.ruv();
                n.covered.clear();
                n.cover(ruv);
                note(n.name + " refreshed by " + agreement + ", new origin " + n.engine.originId().shortForm());
                accountLosses(n);
                n.highestHlc = Math.max(n.highestHlc, n.engine.lastHlc());
                n.durableHlc = Math.max(n.durableHlc, n.engine.ruv().maxHlc());
            }
        };
    }

    private void arrive(Arrive a) {
        SimNode c = nodes.get(a.consumer());
        SimNode s = nodes.get(a.supplier());
        if (c.incarnation != a.incarnation() || !c.up()) {
            return;
        }
        if (!s.up() || !router.reachable(c.index, s.index)) {
            Timer refused = new Timer(c.index, c.incarnation, () -> a.agreement().connectFailed(a.attempt(), Code.CODE_UNSPECIFIED,
                    "cannot connect to supplier " + s.name + (s.up() ? ": unreachable" : ": it is down")));
            schedule(now + 30, refused);
            return;
        }
        SimConnection conn = new SimConnection(++connectionIds, c.index, c.incarnation, s.index, s.incarnation, a.agreement(), a.attempt());
        connections.add(conn);
        conn.session = new SupplierSession(s.engine, s.name, c.name, link(conn, false), scheduler(s), options, events(s));
        conn.session.start();
        // The consumer's side is up one latency later, when the handshake has come back.
        schedule(now + router.latency(c.index, s.index), new Timer(c.index, c.incarnation, () -> {
            if (conn.cut) {
                a.agreement().connectFailed(a.attempt(), Code.CODE_UNSPECIFIED, "the connection to " + s.name + " was lost during its handshake");
            } else {
                a.agreement().connected(a.attempt(), link(conn, true));
            }
        }));
    }

    private Link link(SimConnection c, boolean toSupplier) {
        return new Link() {
            @Override
            public void send(Frame frame) {
                transmit(c, toSupplier, frame);
            }

            @Override
            public void close() {
                if (!c.cut && !c.closing[toSupplier ? 0 : 1]) {
                    c.closing[toSupplier ? 0 : 1] = true;
                    schedule(c.arrival(toSupplier, now + router.latency(c.consumer, c.supplier)), new Deliver(c, toSupplier, null));
                }
            }
        };
    }

    private void transmit(SimConnection c, boolean toSupplier, Frame f) {
        if (!toSupplier && (f.hasBatch() || f.hasChunk()) && nodes.get(c.supplier).lagging()) {
            throw violation(Invariant.LAGGING_NODE_QUIET, nodes.get(c.supplier).name + " is marked for refresh ("
                    + nodes.get(c.supplier).engine.refreshRequired().orElse("") + ") but sends " + f.getBodyCase() + " to " + nodes.get(c.consumer).name);
        }
        if (toSupplier && f.hasPull() && nodes.get(c.consumer).lagging()) {
            throw violation(Invariant.LAGGING_NODE_QUIET, nodes.get(c.consumer).name + " is marked for refresh ("
                    + nodes.get(c.consumer).engine.refreshRequired().orElse("") + ") but asks " + nodes.get(c.supplier).name + " for changes");
        }
        if (c.cut || c.closing[toSupplier ? 0 : 1]) {
            return;
        }
        int from = toSupplier ? c.consumer : c.supplier;
        int to = toSupplier ? c.supplier : c.consumer;
        if (!router.reachable(from, to)) {
            cut(c, "a partition");
            return;
        }
        if (!quiescing && router.cuts(from, to)) {
            cut(c, "a fault, at a " + f.getBodyCase() + " frame");
            return;
        }
        for (long at : router.arrivals(now, from, to, !quiescing)) {
            schedule(c.arrival(toSupplier, at), new Deliver(c, toSupplier, f));
        }
    }

    /** The connection breaks: nothing more goes through, and each side learns it is closed. */
    private void cut(SimConnection c, String why) {
        if (c.cut) {
            return;
        }
        c.cut = true;
        note("connection " + nodes.get(c.consumer).name + "->" + nodes.get(c.supplier).name + " cut by " + why);
        schedule(now + 1 + random.nextInt(5), new Deliver(c, true, null));
        schedule(now + 1 + random.nextInt(5), new Deliver(c, false, null));
    }

    private void deliver(Deliver d) {
        SimConnection c = d.connection();
        SimNode s = nodes.get(c.supplier);
        SimNode n = nodes.get(c.consumer);
        boolean supplierHere = s.up() && s.incarnation == c.supplierIncarnation;
        boolean consumerHere = n.up() && n.incarnation == c.consumerIncarnation;
        if (d.frame() == null) {
            int side = d.toSupplier() ? 0 : 1;
            if (c.closed[side]) {
                return;
            }
            c.closed[side] = true;
            if (c.closed[0] && c.closed[1]) {
                connections.remove(c);
            }
            c.cut = true;
            if (d.toSupplier() && supplierHere) {
                c.session.closed();
            } else if (!d.toSupplier() && consumerHere) {
                c.agreement.disconnected(c.attempt);
            }
            return;
        }
        if (c.cut) {
            return;
        }
        if (d.toSupplier()) {
            if (supplierHere) {
                c.session.receive(d.frame());
            }
        } else if (consumerHere) {
            toConsumer(c, n, d.frame());
        }
    }

    /** Hands a frame to the consumer's agreement, checking what it did with it. */
    private void toConsumer(SimConnection c, SimNode n, Frame f) {
        ConsumerAgreement a = c.agreement;
        boolean live = a.attempt() == c.attempt && a.session() != null && a.session().state() != ConsumerSession.State.CLOSED;
        AgreementStatus.State before = a.state();
        Ruv ruvBefore = n.engine.ruv();
        a.receive(c.attempt, f);
        if (!n.up()) {
            return;
        }
        Ruv ruvAfter = n.engine.ruv();
        if (f.hasBatch() && !ruvAfter.equals(ruvBefore)) {
            if (!live) {
                throw violation(Invariant.REFUSED_APPLIES_NOTHING, n.name + " applied a batch from " + nodes.get(c.supplier).name
                        + " on a session that had already ended");
            }
            if (!n.appliedFrames.add(f)) {
                throw violation(Invariant.NO_DOUBLE_COMMIT, n.name + " committed the same batch from " + nodes.get(c.supplier).name + " twice");
            }
        }
        if (f.hasEnd() && before == AgreementStatus.State.PULLING && a.state() == AgreementStatus.State.IDLE) {
            // Checked here on the RUVs themselves, not through the engine's own check.
            Ruv have = n.engine.ruv();
            List<String> missing = new ArrayList<>();
            Frames.ruv(f.getEnd().getRuv()).origins().forEach((o, r) -> {
                if (have.max(o) < r.max()) {
                    missing.add(o + ": has " + have.max(o) + ", the supplier ended at " + r.max());
                }
            });
            if (!missing.isEmpty()) {
                throw violation(Invariant.PULL_COMPLETE, n.name + "'s pull from " + nodes.get(c.supplier).name
                        + " was reported complete, but it lacks " + missing);
            }
        }
    }

    // ---- events

    private void process(Event e) {
        if (e instanceof Heal || e instanceof Restart) {
            recoveries--;
        }
        try {
            if (e instanceof LocalWrite w) {
                localWrite(nodes.get(w.node()), w.presetId());
            } else if (e instanceof Timer t) {
                SimNode n = nodes.get(t.node);
                if (!t.cancelled && n.up() && n.incarnation == t.incarnation) {
                    t.task.run();
                }
            } else if (e instanceof Deliver d) {
                deliver(d);
            } else if (e instanceof Arrive a) {
                arrive(a);
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
                for (SimConnection c : List.copyOf(connections)) {
                    if (!router.reachable(c.consumer, c.supplier)) {
                        cut(c, "a partition");
                    }
                }
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
        if (!n.up() || n.hub) {
            return;
        }
        if (n.lagging()) {
            try {
                Cid cid = n.engine.transaction().create(PEOPLE, n.engine.newEntryId(), Attributes.ofText("name", "while-lagging")).commit();
                throw violation(Invariant.LAGGING_NODE_QUIET, n.name + " is marked for refresh but took a local write: " + cid);
            } catch (RefreshRequiredException expected) {
                return;
            }
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
        acknowledged.put(cid, ByteString.copyFrom(n.engine.changeRecord(cid).orElseThrow(
                () -> violation(Invariant.NO_LOST_WRITE, "the record of acknowledged change " + cid + " is not in " + n.name + "'s changelog"))));
    }

    /** After a refresh replaced a node's content, the changes no other node holds are gone. */
    private void accountLosses(SimNode refreshed) {
        for (Cid cid : acknowledged.keySet()) {
            if (lost.contains(cid)) {
                continue;
            }
            boolean somewhere = false;
            for (SimNode other : nodes) {
                if (other.covers(cid)) {
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
        // Nodes trim while quiescing too, as running nodes always do.
        if (now < activeUntil || recoveries > 0 || quiescing) {
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
        for (SimConnection c : List.copyOf(connections)) {
            if (c.consumer == n.index || c.supplier == n.index) {
                cut(c, "the crash of " + n.name);
            }
        }
        // The process dies: its sessions release what they hold of the engine, and their
        // timers and frames in flight die with this incarnation.
        for (SimNode.Watched w : n.agreements) {
            w.agreement().stop();
        }
        for (SimConnection c : connections) {
            if (c.supplier == n.index && c.supplierIncarnation == n.incarnation) {
                c.session.stop();
            }
        }
        n.agreements.clear();
        n.incarnation++;
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
        note(n.name + " restarts" + (n.lagging() ? ", marked for refresh" : ""));
        startAgreements(n);
    }

    // ---- invariants after every event

    private void checkAll() {
        for (SimNode n : nodes) {
            if (n.up()) {
                check(n);
                checkSessions(n);
            }
        }
    }

    private void checkSessions(SimNode n) {
        for (SimConnection c : connections) {
            if (c.supplier == n.index && c.supplierIncarnation == n.incarnation && c.session.credit() < 0) {
                throw violation(Invariant.CREDIT_BOUNDED, n.name + "'s session with " + nodes.get(c.consumer).name + " has credit " + c.session.credit());
            }
        }
        for (SimNode.Watched w : n.agreements) {
            ConsumerAgreement a = w.agreement();
            ConsumerSession s = a.session();
            if (s != null && (s.outstandingCredit() < 0 || s.outstandingCredit() > options.credit())) {
                throw violation(Invariant.CREDIT_BOUNDED, a.name() + " has granted " + s.outstandingCredit() + " batches, its credit is "
                        + options.credit());
            }
            AgreementStatus st = a.status();
            long successes = st.pulls() + st.refreshes();
            if (successes != w.successes) {
                w.successes = successes;
                w.failuresInARow = 0;
            }
            if (a.failures() != w.failures) {
                w.failuresInARow += a.failures() - w.failures;
                w.failures = a.failures();
                long min = options.minBackoff().toMillis();
                long max = options.maxBackoff().toMillis();
                long step = Math.min(max, min << Math.min(40, w.failuresInARow - 1));
                long delay = a.lastBackoffDelay();
                if (delay < step / 2 || delay > step) {
                    throw violation(Invariant.BACKOFF_BOUNDED, a.name() + " waits " + delay + " ms after " + w.failuresInARow
                            + " failures in a row; the backoff allows " + step / 2 + " to " + step + " ms");
                }
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
        for (Map.Entry<OriginId, Long> c : n.covered.entrySet()) {
            if (ruv.max(c.getKey()) < c.getValue()) {
                throw violation(Invariant.RUV_KEPT, n.name + "'s RUV has origin " + c.getKey() + " up to " + ruv.max(c.getKey())
                        + ", though it covered it up to " + c.getValue() + " since its last refresh");
            }
        }
        n.cover(ruv);
        for (Map.Entry<List<Object>, Cid> d : deletions.entrySet()) {
            Cid cid = d.getValue();
            if (n.covers(cid)) {
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

    /** Stops the faults and lets the sessions run until every node holds the same changes. */
    private void quiesce() {
        quiescing = true;
        router.healAll();
        note("faults stop; the topology quiesces");
        for (SimNode n : nodes) {
            if (!n.up()) {
                open(n);
                note(n.name + " restarts" + (n.lagging() ? ", marked for refresh" : ""));
                startAgreements(n);
            }
        }
        checkAll();
        long limit = now + QUIESCE_LIMIT_MILLIS;
        long nextCheck = now;
        while (!converged(now >= nextCheck)) {
            if (now >= nextCheck) {
                nextCheck = now + 100;
                operator();
            }
            Scheduled s = queue.poll();
            if (s == null || s.time() > limit) {
                throw violation(Invariant.CONVERGENCE, "the topology did not converge within " + QUIESCE_LIMIT_MILLIS
                        + " ms of the faults stopping:" + describeNodes());
            }
            Event e = s.event();
            if (e instanceof LocalWrite || e instanceof Crash || e instanceof Partition || e instanceof ClockJump) {
                continue;
            }
            step(s);
        }
        note("converged");
        for (SimNode n : nodes) {
            n.agreements.forEach(w -> w.agreement().stop());
        }
        for (SimConnection c : connections) {
            c.session.stop();
        }
        queue.clear();
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

    /**
     * The operator the SPLIT refusal asks for: for each pair that stopped replicating because each
     * side trimmed changes the other lacks and neither was cut off alone, keep the side of the
     * node with the lower index and refresh the other from it, unless the kept side's node is
     * itself marked for refresh by then (as a real operator reads in its status).
     */
    private void operator() {
        for (SimNode n : nodes) {
            for (SimNode.Watched w : n.agreements) {
                ConsumerAgreement.Failure f = w.agreement().lastFailure();
                if (w.agreement().state() != AgreementStatus.State.BACKOFF || f == null || f.code() != Code.SPLIT || !operated.add(f)) {
                    continue;
                }
                SimNode s = nodes.get(w.supplier);
                SimNode loser = n.index > s.index ? n : s;
                SimNode winner = loser == n ? s : n;
                // A node marked for refresh supplies nobody: an operator keeps the other side (the
                // marked node refreshes from it by itself), never the marked one.
                if (!loser.up() || loser.lagging() || winner.lagging()) {
                    continue;
                }
                note("operator: " + n.name + " and " + s.name + " are split; keeps " + winner.name + "'s side and refreshes " + loser.name);
                operatorRefreshes++;
                for (SimNode.Watched lw : loser.agreements) {
                    if (lw.supplier == winner.index) {
                        lw.agreement().refreshNow("an operator chose " + winner.name + "'s side of a split", new java.util.concurrent.CompletableFuture<>());
                    }
                }
            }
        }
    }

    /** Every node is up, none must be refreshed, and all hold the same changes of every origin. */
    private boolean converged(boolean look) {
        if (!look) {
            return false;
        }
        Map<OriginId, Long> first = null;
        for (SimNode n : nodes) {
            if (!n.up() || n.lagging()) {
                return false;
            }
            for (SimNode.Watched w : n.agreements) {
                if (w.agreement().state() == AgreementStatus.State.REFRESHING) {
                    return false;
                }
            }
            // Every origin, retired ones too: a retired origin some node lacks is exactly what the
            // convergence check must not overlook.
            Map<OriginId, Long> maxes = new TreeMap<>();
            n.engine.ruv().origins().forEach((o, r) -> maxes.put(o, r.max()));
            if (first == null) {
                first = maxes;
            } else if (!first.equals(maxes)) {
                return false;
            }
        }
        return true;
    }

    private String describeNodes() {
        StringBuilder sb = new StringBuilder();
        for (SimNode n : nodes) {
            sb.append("\n      ").append(n.name).append(n.lagging() ? " (must refresh: " + n.engine.refreshRequired().get() + ")" : "")
                    .append(" RUV ").append(n.up() ? n.engine.ruv() : "down");
            for (SimNode.Watched w : n.agreements) {
                AgreementStatus st = w.agreement().status();
                sb.append("\n        ").append(st.name()).append(' ').append(st.state()).append(st.lastError() == null ? "" : ": " + st.lastError());
            }
        }
        return sb.toString();
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
        SimNode holder = nodes.get(0);
        ReferenceModel model = new ReferenceModel();
        for (Map.Entry<Cid, ByteString> a : acknowledged.entrySet()) {
            if (lost.contains(a.getKey())) {
                continue;
            }
            if (!holder.covers(a.getKey())) {
                throw violation(Invariant.NO_LOST_WRITE, "acknowledged change " + a.getKey() + " is not in the converged state (RUV "
                        + holder.engine.ruv() + ")");
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
            n.agreements.forEach(w -> w.agreement().stop());
            n.agreements.clear();
        }
        for (SimConnection c : connections) {
            if (c.session != null && nodes.get(c.supplier).up()) {
                c.session.stop();
            }
        }
        for (SimNode n : nodes) {
            if (n.engine != null) {
                n.engine.close();
                n.engine = null;
            }
        }
    }
}
