package dev.entente.engine.session;

import dev.entente.engine.ApplyResult;
import dev.entente.engine.Engine;
import dev.entente.engine.Progress;
import dev.entente.engine.clock.HybridClock;
import dev.entente.engine.session.AgreementStatus.State;
import dev.entente.protocol.SessionMessages.Error.Code;
import dev.entente.protocol.SessionMessages.Frame;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One agreement's schedule, as a state machine with no I/O: connects to the supplier, runs a
 * {@link ConsumerSession} on each connection, pulls at once when the supplier announces changes
 * (at most once per {@link #PULL_SPACING_NANOS}) and on the agreement's interval otherwise,
 * refreshes when this node must be refreshed and the agreement (or an operator) allows it, and
 * after a failure backs off with jitter ({@link Backoff}) and connects again.
 *
 * <pre>
 *   CONNECTING --connected--> CONNECTED --Hello ok--> PULLING --pulled--> IDLE --interval, notify, sync--> PULLING
 *   CONNECTED, PULLING --this node must be refreshed--> REFRESHING (automatic or asked) | REFRESH_REQUIRED (waits)
 *   REFRESHING --refreshed--> PULLING
 *   any --failure--> BACKOFF --delay--> CONNECTING;   any --stop--> STOPPED
 * </pre>
 *
 * Inputs come from its node's transport ({@link #connected}, {@link #receive}, {@link #disconnected},
 * ...), from timers of its {@link Scheduler}, and from operators ({@link #sync}, {@link #refreshNow}).
 * The transport opens connections when the {@link Connector} asks. Each connection carries the
 * attempt number it was opened for: events of a superseded connection are ignored.
 */
public final class ConsumerAgreement {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ConsumerAgreement.class);

    /** The shortest time between the starts of two pulls that notifications trigger. */
    public static final long PULL_SPACING_NANOS = 3_000_000;

    /** Opens connections for an agreement. */
    @FunctionalInterface
    public interface Connector {
        /**
         * Opens a connection to the supplier, then calls {@link #connected} or
         * {@link #connectFailed} with this attempt number.
         */
        void connect(long attempt);
    }

    private final AgreementSettings settings;
    private final Engine engine;
    private final String nodeName;
    private final SessionOptions options;
    private final Scheduler scheduler;
    private final Connector connector;
    private final SessionEvents events;
    private final Backoff backoff;
    private State state = State.CONNECTING;
    private ConsumerSession session;
    private long attempt;
    private Scheduler.Timer timer;
    /** Ends a session whose supplier has gone silent while this side waits for it. */
    private Scheduler.Timer silenceTimer;
    /** When this side last handled something from the supplier (or began to wait for it). */
    private long heardNanos;
    /** Bumped at each arming and cancelling, so that a timer task already on its way does nothing. */
    private long silenceGeneration;
    /** Bumped whenever the timer is cancelled or replaced, so a task already on its way does nothing. */
    private long timerGeneration;
    private boolean spacedPullPending;
    private boolean refreshAsked;
    /** The reason of the mark an operator's refresh set here, until it is refreshed or taken back; null when none. */
    private String operatorMark;
    /** Turns this agreement has waited while this node must refresh from another peer. */
    private int turnsWaited;
    /** After this many turns, a node marked on another peer's word refreshes from whichever agreement comes next. */
    static final int TURNS_BEFORE_ANY_SUPPLIER = 10;
    /** The supplier's name from its last Hello, once known. */
    private volatile String supplierName;
    private boolean stopped;
    private long pullStarted;
    private long lastBackoffDelay;
    private long failures;
    private Instant lastSuccess;
    private String lastError;
    private long changesApplied;
    private long batches;
    private long bytes;
    private long lagMillis;
    private long refreshes;
    private long pulls;
    private long pullNanos;
    /** The refresh in progress: when it started (the scheduler's nanoTime), and how far it is. */
    private long refreshStartNanos;
    private long refreshBytes;
    private long refreshRecords;
    private long refreshEstimate;

    /**
     * Why the last session failed.
     *
     * @param cause the engine's exception when this node refused a batch, else null
     */
    public record Failure(Code code, String reason, RuntimeException cause) {
    }

    private Failure lastFailure;

    private record Waiter(CompletableFuture<SyncResult> future, long startNanos, long applied, long batches, long bytes) {
    }

    private final List<Waiter> syncs = new ArrayList<>();
    private final List<CompletableFuture<AgreementStatus>> refreshWaiters = new ArrayList<>();

    public ConsumerAgreement(AgreementSettings settings, Engine engine, String nodeName, SessionOptions options, Scheduler scheduler,
                             Random random, Connector connector, SessionEvents events) {
        this.settings = settings;
        this.engine = engine;
        this.nodeName = nodeName;
        this.options = options;
        this.scheduler = scheduler;
        this.connector = connector;
        this.events = events;
        this.backoff = new Backoff(options.minBackoff().toMillis(), options.maxBackoff().toMillis(), random);
    }

    public String name() {
        return settings.name();
    }

    /** Starts: the first connection. */
    public void start() {
        connect();
    }

    // ---- inputs from the transport

    /** The connection of {@code attempt} is up (TLS done): the session starts with a Hello. */
    public void connected(long attempt, Link link) {
        if (attempt != this.attempt || stopped || state != State.CONNECTING) {
            link.close();
            return;
        }
        session = new ConsumerSession(engine, nodeName, settings, options, link, new SessionOwner(attempt), events);
        setState(State.CONNECTED);
        session.open();
        watchSilence();
    }

    /** The connection of {@code attempt} could not be opened. */
    public void connectFailed(long attempt, Code code, String reason) {
        if (attempt == this.attempt && state == State.CONNECTING) {
            failed(code, reason);
        }
    }

    /** A frame arrived on the connection of {@code attempt}. */
    public void receive(long attempt, Frame frame) {
        if (current(attempt)) {
            session.receive(frame);
            watchSilence();
        }
    }

    /** A batch arrived on the connection of {@code attempt}, decoded by {@link ConsumerSession#prepare}. */
    public void receive(long attempt, ConsumerSession.Prepared batch) {
        if (current(attempt)) {
            session.receive(batch);
            watchSilence();
        }
    }

    /**
     * While this side waits for the supplier, the time since the end of the last input handled
     * (not its arrival: applying a large batch is not the supplier's silence) is watched. One
     * timer serves a whole stream: each input only notes the time, and the timer, when it comes
     * due, waits again for what is left unless the supplier has been silent all along.
     */
    private void watchSilence() {
        heardNanos = scheduler.nanoTime();
        if (!waitingForSupplier()) {
            if (silenceTimer != null) {
                silenceTimer.cancel();
                silenceTimer = null;
                silenceGeneration++;
            }
        } else if (silenceTimer == null) {
            armSilenceTimer(options.silenceTimeout().toMillis());
        }
    }

    private boolean waitingForSupplier() {
        return session != null && !stopped && (state == State.CONNECTED || state == State.PULLING || state == State.REFRESHING);
    }

    private void armSilenceTimer(long millis) {
        long generation = ++silenceGeneration;
        silenceTimer = scheduler.schedule(millis, () -> {
            if (generation != silenceGeneration) {
                return;
            }
            silenceTimer = null;
            if (!waitingForSupplier()) {
                return;
            }
            long timeout = options.silenceTimeout().toMillis();
            long silent = TimeUnit.NANOSECONDS.toMillis(scheduler.nanoTime() - heardNanos);
            if (silent < timeout) {
                armSilenceTimer(timeout - silent);
            } else {
                failed(Code.CODE_UNSPECIFIED, "supplier " + settings.supplier() + " sent nothing for " + timeout + " ms while this node waited for it");
            }
        });
    }

    /** The transport could not read a frame on the connection of {@code attempt}. */
    public void malformed(long attempt, Code code, String message) {
        if (current(attempt)) {
            session.malformed(code, message);
        }
    }

    /** The connection of {@code attempt} failed below the session (TLS refused, reset). */
    public void transportFailed(long attempt, Code code, String reason) {
        if (attempt == this.attempt && (session != null || state == State.CONNECTING)) {
            failed(code, reason);
        }
    }

    /** The connection of {@code attempt} is closed. */
    public void disconnected(long attempt) {
        if (current(attempt)) {
            failed(Code.CODE_UNSPECIFIED, "the connection to supplier " + settings.supplier() + " was lost");
        }
    }

    private boolean current(long attempt) {
        return attempt == this.attempt && session != null && !stopped;
    }

    // ---- inputs from operators

    /** Pulls now (or as soon as connected) and completes the future when that pull ends or fails. */
    public void sync(CompletableFuture<SyncResult> result) {
        synchronized (this) {
            syncs.add(new Waiter(result, scheduler.nanoTime(), changesApplied, batches, bytes));
        }
        if (stopped) {
            completeSyncs("the node is stopping");
        } else if (state == State.IDLE) {
            next();
        } else if (state == State.BACKOFF) {
            // An operator asking for a sync (say, after repairing the network) wants it now, not
            // after a backoff that may have grown to its maximum.
            connect();
        }
    }

    /**
     * Refreshes this node from this agreement's supplier as soon as it can (an operator's request).
     * A node not yet marked for refresh is marked now, for {@code reason} and naming this supplier.
     * Completes with the status once refreshed, or with the error of the first failed attempt.
     * <p>
     * A supplier that must be refreshed itself serves nobody: if it refuses before anything was
     * imported, the mark set here is taken back, since it would leave both nodes out of service,
     * each waiting for the other (the supplier may have been marked on this node's own word, in a
     * verdict that crossed the operator's choice). Nothing of the store changed then, as a
     * refresh imports aside and switches at its end; the status's error says so.
     */
    public void refreshNow(String reason, CompletableFuture<AgreementStatus> result) {
        if (engine.refreshRequired().isEmpty()) {
            engine.markRefreshRequired(reason, supplierName != null ? supplierName : settings.supplierName());
            operatorMark = reason;
        }
        refreshAsked = true;
        synchronized (this) {
            refreshWaiters.add(result);
        }
        if (stopped) {
            completeRefreshWaiters();
        } else if (state == State.IDLE || state == State.REFRESH_REQUIRED) {
            refresh();
        } else if (state == State.BACKOFF) {
            connect();
        }
        // CONNECTING, CONNECTED, PULLING: the request is taken at the session's next step.
    }

    /** Pulls now if idle (a commit nearby, an operator). */
    public void pullNow() {
        if (state == State.IDLE) {
            next();
        }
    }

    /** Stops: the connection is closed, a refresh in progress dropped, waiters told. */
    public void stop() {
        stopped = true;
        setState(State.STOPPED);
        completeSyncs("the node is stopping");
        completeRefreshWaiters();
        cancelTimer();
        if (session != null) {
            session.close();
            session = null;
        }
        watchSilence();
    }

    // ---- what it reports

    public synchronized AgreementStatus status() {
        Progress refresh = state != State.REFRESHING ? null : new Progress("records", refreshRecords, refreshEstimate, refreshBytes,
                java.time.Duration.ofNanos(Math.max(0, scheduler.nanoTime() - refreshStartNanos)));
        return new AgreementStatus(settings.name(), settings.supplier(), state, lastSuccess, lastError, changesApplied, batches, bytes,
                lagMillis, refreshes, pulls, pullNanos / 1_000_000, refresh);
    }

    public synchronized State state() {
        return state;
    }

    /** The session on the current connection, or null. */
    public ConsumerSession session() {
        return session;
    }

    /** The supplier's node name from its last Hello, or null before one. */
    public String supplierName() {
        return supplierName;
    }

    /** The attempt number of the newest connection. */
    public long attempt() {
        return attempt;
    }

    /** How many sessions have failed (each followed by a backoff). */
    public long failures() {
        return failures;
    }

    /** Why the last session failed, or null if none has. */
    public Failure lastFailure() {
        return lastFailure;
    }

    /** The last delay this agreement waited after a failure. */
    public long lastBackoffDelay() {
        return lastBackoffDelay;
    }

    public Backoff backoff() {
        return backoff;
    }

    // ---- the schedule

    private synchronized void setState(State s) {
        if (s == State.REFRESHING && state != State.REFRESHING) {
            refreshStartNanos = scheduler.nanoTime();
            refreshBytes = 0;
            refreshRecords = 0;
            refreshEstimate = 0;
        }
        state = s;
    }

    private void connect() {
        if (stopped) {
            return;
        }
        cancelTimer();
        if (session != null) {
            session.close();
            session = null;
        }
        setState(State.CONNECTING);
        // A newer attempt supersedes this one: only one connection may be the session's.
        connector.connect(++attempt);
    }

    /** After a session step: pull, refresh or wait, as this node's state says. */
    private void next() {
        if (session == null) {
            return;
        }
        if (session.joining() && engine.refreshRequired().isEmpty()) {
            // Refreshed meanwhile (by another agreement): say Hello again as a member, and pull.
            LOG.info("agreement '" + settings.name() + "': this node has joined; reconnecting as a member");
            connect();
            return;
        }
        if (engine.refreshRequired().isPresent()) {
            // The peer whose word marked this node holds what it lacks: refresh from it, not from
            // a supplier that may lack the same (after a long split, a node refreshed from its own
            // side is told to refresh again, forever). Only if that peer stays out of reach does
            // any supplier do, so a lagging node can always get back.
            boolean fromThisOne = engine.refreshFrom().map(p -> p.equals(session.supplierName())).orElse(true)
                    || turnsWaited >= TURNS_BEFORE_ANY_SUPPLIER;
            if (refreshAsked || settings.automaticRefresh() && fromThisOne) {
                refresh();
            } else {
                turnsWaited++;
                setState(State.REFRESH_REQUIRED);
                synchronized (this) {
                    lastError = "REFRESH_REQUIRED: " + engine.refreshRequired().get() + (settings.automaticRefresh()
                            ? "; refreshing from '" + engine.refreshFrom().orElse("?") + "' first"
                            : "; refresh this node (automaticRefresh is off)");
                }
                LOG.warn("agreement '" + settings.name() + "': " + lastError);
                completeSyncs(lastError);
                schedule(settings.interval().toMillis(), this::next);
            }
            return;
        }
        pull();
    }

    private void pull() {
        cancelTimer();
        setState(State.PULLING);
        pullStarted = scheduler.nanoTime();
        session.pull();
        watchSilence();
    }

    private void refresh() {
        cancelTimer();
        setState(State.REFRESHING);
        session.refresh();
        watchSilence();
    }

    /**
     * The supplier committed something. A quiet supplier is pulled at once; a busy one at most
     * once per {@link #PULL_SPACING_NANOS}, so that a stream of commits is fetched in a few pulls
     * of many changes rather than one pull (and one fsync on the supplier) per commit.
     */
    private void changesAvailable() {
        if (state != State.IDLE || spacedPullPending) {
            return;
        }
        long wait = pullStarted + PULL_SPACING_NANOS - scheduler.nanoTime();
        if (wait <= 0) {
            next();
            return;
        }
        schedule(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait + 999_999)), () -> {
            if (state == State.IDLE) {
                next();
            }
        });
        spacedPullPending = true;
    }

    private void pulled() {
        long now = scheduler.nanoTime();
        synchronized (this) {
            lastSuccess = Instant.ofEpochMilli(engine.clock().nowMillis());
            lastError = null;
            pulls++;
            pullNanos += now - pullStarted;
        }
        backoff.reset();
        setState(State.IDLE);
        completeSyncs(null);
        if (refreshAsked && engine.refreshRequired().isEmpty()) {
            // Another agreement refreshed this node first: the operator's request is answered.
            refreshAsked = false;
            completeRefreshWaiters();
        }
        if (engine.refreshRequired().isPresent()) {
            next();
            return;
        }
        // Through next(), not straight to a pull: this node may have been marked for refresh
        // meanwhile (its supplier side found itself stale), and must then refresh, not pull.
        schedule(settings.interval().toMillis(), () -> {
            if (state == State.IDLE) {
                next();
            }
        });
    }

    private void refreshed() {
        synchronized (this) {
            refreshes++;
            lastSuccess = Instant.ofEpochMilli(engine.clock().nowMillis());
            lastError = null;
        }
        refreshAsked = false;
        operatorMark = null;
        turnsWaited = 0;
        backoff.reset();
        next();
        // After next(), so an operator waiting for the refresh reads what the agreement does now.
        completeRefreshWaiters();
    }

    private void failed(Code code, String reason) {
        if (stopped) {
            return;
        }
        if (operatorMark != null && code == Code.NOT_SERVING && engine.withdrawRefreshRequired(operatorMark)) {
            reason = "the refresh did not begin: " + reason + ". This node is left as it was and takes writes;"
                    + " refresh that supplier first, or refresh this node from another";
            operatorMark = null;
            refreshAsked = false;
        }
        if (lastFailure == null || !lastFailure.reason().equals(reason)) {
            lastFailure = new Failure(code, reason, null);
        }
        synchronized (this) {
            lastError = reason;
        }
        events.refused(settings.name(), code, reason);
        events.record(settings.name(), "session", settings.supplier(), "failed: " + reason);
        if (session != null) {
            session.close();
            session = null;
        }
        setState(State.BACKOFF);
        watchSilence();
        failures++;
        long delay = backoff.next();
        lastBackoffDelay = delay;
        LOG.warn("agreement '" + settings.name() + "' with " + settings.supplier() + ": " + reason
                + "; retrying in " + delay + " ms");
        completeSyncs(reason);
        completeRefreshWaiters();
        schedule(delay, () -> {
            if (state == State.BACKOFF) {
                connect();
            }
        });
    }

    private void completeSyncs(String error) {
        List<Waiter> done;
        synchronized (this) {
            done = new ArrayList<>(syncs);
            syncs.clear();
        }
        long now = scheduler.nanoTime();
        for (Waiter w : done) {
            w.future().complete(new SyncResult(settings.name(), error == null, changesApplied - w.applied(), batches - w.batches(),
                    bytes - w.bytes(), (now - w.startNanos()) / 1_000_000, error));
        }
    }

    private void completeRefreshWaiters() {
        List<CompletableFuture<AgreementStatus>> done;
        synchronized (this) {
            done = new ArrayList<>(refreshWaiters);
            refreshWaiters.clear();
        }
        AgreementStatus s = status();
        done.forEach(f -> f.complete(s));
    }

    private void schedule(long millis, Runnable task) {
        cancelTimer();
        long generation = timerGeneration;
        timer = scheduler.schedule(millis, () -> {
            if (generation == timerGeneration && !stopped) {
                timer = null;
                task.run();
            }
        });
    }

    private void cancelTimer() {
        spacedPullPending = false;
        timerGeneration++;
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
    }

    /** Takes a session's outcomes, but only while that session is the agreement's current one. */
    private final class SessionOwner implements ConsumerSession.Owner {
        private final long attempt;

        SessionOwner(long attempt) {
            this.attempt = attempt;
        }

        private boolean current() {
            return attempt == ConsumerAgreement.this.attempt && session != null && !stopped;
        }

        @Override
        public void ready() {
            if (current()) {
                supplierName = session.supplierName();
                next();
            }
        }

        @Override
        public void applied(ApplyResult r, long batchBytes) {
            synchronized (ConsumerAgreement.this) {
                changesApplied += r.applied();
                batches++;
                bytes += batchBytes;
                lagMillis = Math.max(0, engine.clock().nowMillis() - HybridClock.physicalMillis(engine.ruv().maxHlc()));
            }
        }

        @Override
        public void chunk(long chunkBytes, long records, long estimatedRecords) {
            synchronized (ConsumerAgreement.this) {
                bytes += chunkBytes;
                refreshBytes += chunkBytes;
                refreshRecords = records;
                refreshEstimate = estimatedRecords;
            }
        }

        @Override
        public void pulled() {
            if (current()) {
                ConsumerAgreement.this.pulled();
            }
        }

        @Override
        public void refreshed() {
            if (current()) {
                ConsumerAgreement.this.refreshed();
            }
        }

        @Override
        public void superseded() {
            if (current()) {
                next();
            }
        }

        @Override
        public void mustRefresh(String reason) {
            if (current()) {
                next();
            }
        }

        @Override
        public void changesAvailable() {
            if (current()) {
                ConsumerAgreement.this.changesAvailable();
            }
        }

        @Override
        public void failed(Code code, String reason, RuntimeException cause) {
            if (current()) {
                lastFailure = new Failure(code, reason, cause);
                ConsumerAgreement.this.failed(code, reason);
            }
        }
    }
}
