package dev.entente.node;

import dev.entente.engine.Engine;
import dev.entente.engine.session.AgreementStatus;
import dev.entente.engine.session.SyncResult;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A node's replication: the TLS server that supplies pinned consumers, and one runner per
 * agreement that pulls from its supplier. The engine does the replication logic; this only
 * carries its batches and chunks.
 */
public final class ReplicationNode implements AutoCloseable {
    private final Engine engine;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ExecutorService pool;
    private final ReplicationServer server;
    private final List<AgreementRunner> runners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final NodeIdentity identity;
    private final TransportOptions options;
    private volatile boolean closed;
    private final RefusalLog refusals = new RefusalLog();

    private final SessionLog sessions;
    /** The pinned consumers by the SHA-256 of their public key. */
    private final java.util.Map<String, ConsumerPin> pins = new java.util.concurrent.ConcurrentHashMap<>();
    /** Sessions each pinned consumer holds now. */
    private final java.util.Map<String, Integer> sessionsOf = new java.util.HashMap<>();

    private ReplicationNode(Engine engine, NodeIdentity identity, InetSocketAddress listen, List<ConsumerPin> consumers,
                            List<Agreement> agreements, TransportOptions options, SessionLog sessions) {
        this.engine = engine;
        // Every session's log goes through here, so that the origins peers name are remembered.
        this.sessions = new SessionLog() {
            @Override
            public void record(String who, String action, String target, String result) {
                synchronized (recent) {
                    if (recent.size() >= RECENT_SESSIONS) {
                        recent.removeFirst();
                    }
                    recent.addLast(new SessionRecord(java.time.Instant.now(), who, action, target, result));
                }
                sessions.record(who, action, target, result);
            }

            @Override
            public void served(String consumerKey) {
                lastServed.put(consumerKey, java.time.Instant.now());
            }

            @Override
            public void peerOrigin(String peer, dev.entente.engine.clock.OriginId origin) {
                // Bounded: pinned peers are few, but a peer that takes a new origin at each refresh
                // would grow the map forever.
                if (originNames.size() >= MAX_ORIGIN_NAMES) {
                    originNames.clear();
                }
                originNames.put(origin, peer);
            }
        };
        this.identity = identity;
        this.options = options;
        for (ConsumerPin p : consumers) {
            ConsumerPin other = pins.put(p.keyHash(), p);
            if (other != null) {
                throw new IllegalArgumentException("consumers '" + other.name() + "' and '" + p.name() + "' pin the same key (SHA-256 "
                        + p.keyHash() + "): a key is one consumer");
            }
        }
        this.boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        this.workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "entente-replication-" + identity.name() + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            this.server = new ReplicationServer(engine, identity.name(), Tls.server(identity, pins::containsKey),
                    listen, boss, workers, pool, options, refusals, new Peers(), this.sessions);
            for (Agreement a : agreements) {
                runners.add(runner(a));
            }
        } catch (RuntimeException e) {
            shutdownThreads();
            throw e;
        }
        runners.forEach(AgreementRunner::start);
    }

    private AgreementRunner runner(Agreement a) {
        return new AgreementRunner(a, engine, identity.name(), Tls.client(identity, List.of(a.supplierCertificate())),
                workers, pool, options, refusals, server.address().getPort(), sessions);
    }

    /** Who a key is, and how many sessions it holds, for the server's connections. */
    private final class Peers implements SupplierChannel.Peers {
        @Override
        public ConsumerPin pinOf(X509Certificate presented) {
            return pins.get(NodeIdentity.publicKeyFingerprint(presented));
        }

        @Override
        public boolean stillPinned(ConsumerPin pin) {
            return pins.get(pin.keyHash()) == pin;
        }

        @Override
        public boolean admit(ConsumerPin pin) {
            synchronized (sessionsOf) {
                int n = sessionsOf.getOrDefault(pin.keyHash(), 0);
                if (n >= options.maxSessionsPerPeer()) {
                    return false;
                }
                sessionsOf.put(pin.keyHash(), n + 1);
                return true;
            }
        }

        @Override
        public void release(ConsumerPin pin) {
            synchronized (sessionsOf) {
                sessionsOf.computeIfPresent(pin.keyHash(), (k, n) -> n > 1 ? n - 1 : null);
            }
        }

        @Override
        public void mutualPullRequested(ConsumerPin pin, InetSocketAddress address) {
            pullBack(pin, address);
        }
    }

    /**
     * A pinned consumer with a mutual-pull agreement asked this node to pull from it too. Only a
     * pin that allows it ({@code mutual}) gets an agreement back: one per pin, to the address it
     * connects from, trusting the certificate pinned for it. A later request from another port
     * replaces it (the consumer restarted elsewhere). Refused otherwise: a Hello never creates an
     * agreement by itself.
     */
    private synchronized void pullBack(ConsumerPin pin, InetSocketAddress address) {
        if (closed) {
            return;
        }
        if (!pin.mutual()) {
            refusals.refused(pin.name(), dev.entente.protocol.SessionMessages.Error.Code.NOT_AUTHORIZED, "consumer '" + pin.name()
                    + "' asked this node to pull from it too, but its pin does not allow it: it is served, and nothing is pulled from it"
                    + " (set mutual: true on its pin to allow it)");
            return;
        }
        String name = identity.name() + "<-" + pin.name() + " (mutual)";
        AgreementRunner existing = runners.stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
        if (existing != null) {
            if (existing.supplierAddress().equals(address)) {
                return;
            }
            runners.remove(existing);
            existing.close();
        }
        AgreementRunner back = runner(new Agreement(name, address, pin.certificate(), Agreement.Mode.PULL,
                java.time.Duration.ofSeconds(5), true));
        runners.add(back);
        back.start();
    }

    /**
     * Starts serving on {@code listen} (port 0 picks a free one) the consumers whose certificates
     * are pinned in {@code consumers}, and pulling along {@code agreements}.
     */
    public static ReplicationNode start(Engine engine, NodeIdentity identity, InetSocketAddress listen, List<ConsumerPin> consumers,
                                        List<Agreement> agreements, TransportOptions options) {
        return new ReplicationNode(engine, identity, listen, consumers, agreements, options, SessionLog.NONE);
    }

    /** The same, recording sessions (connections, refreshes, failures) in {@code sessions}. */
    public static ReplicationNode start(Engine engine, NodeIdentity identity, InetSocketAddress listen, List<ConsumerPin> consumers,
                                        List<Agreement> agreements, TransportOptions options, SessionLog sessions) {
        return new ReplicationNode(engine, identity, listen, consumers, agreements, options, sessions);
    }

    public InetSocketAddress address() {
        return server.address();
    }

    public Engine engine() {
        return engine;
    }

    public List<AgreementStatus> status() {
        return runners.stream().map(AgreementRunner::status).toList();
    }

    /** Every agreement that is idle pulls now. */
    public void syncNow() {
        runners.forEach(AgreementRunner::pullNow);
    }

    /** Pulls along every agreement and waits for each pull to end. @throws IllegalArgumentException the node has no agreements */
    public List<SyncResult> syncAll(java.time.Duration timeout) {
        if (runners.isEmpty()) {
            throw new IllegalArgumentException("this node has no agreements");
        }
        return sync(List.copyOf(runners), timeout);
    }

    /** Pulls along the agreement named and waits for the pull to end. @throws IllegalArgumentException there is none of that name */
    public SyncResult sync(String agreement, java.time.Duration timeout) {
        java.util.Objects.requireNonNull(agreement, "agreement (syncAll pulls along every one)");
        List<AgreementRunner> chosen = runners.stream().filter(r -> r.name().equals(agreement)).toList();
        if (chosen.isEmpty()) {
            throw new IllegalArgumentException("no agreement named '" + agreement + "'");
        }
        return sync(chosen, timeout).get(0);
    }

    private List<SyncResult> sync(List<AgreementRunner> chosen, java.time.Duration timeout) {
        List<java.util.concurrent.CompletableFuture<SyncResult>> futures = chosen.stream().map(AgreementRunner::sync).toList();
        List<SyncResult> results = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int i = 0; i < futures.size(); i++) {
            try {
                results.add(futures.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (java.util.concurrent.TimeoutException e) {
                results.add(new SyncResult(chosen.get(i).name(), false, 0, 0, 0, timeout.toMillis(),
                        "no pull finished within " + timeout.toMillis() + " ms; status says why"));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while syncing", e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("sync failed: " + e.getCause(), e.getCause());
            }
        }
        return results;
    }

    /**
     * Replaces this node's content by a snapshot from the supplier of {@code agreement}, and waits
     * for it. The node refuses writes and supplies nobody until then.
     */
    public AgreementStatus refreshFrom(String agreement, java.time.Duration timeout) {
        AgreementRunner r = runners.stream().filter(x -> x.name().equals(agreement)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no agreement named '" + agreement + "'"));
        boolean markedBefore = engine.refreshRequired().isPresent();
        try {
            AgreementStatus s = r.refreshNow("an operator asked for a refresh from agreement '" + agreement + "'")
                    .get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (!markedBefore && engine.refreshRequired().isEmpty() && s.lastError() != null) {
                // The agreement took its mark back: the supplier serves nobody (see ConsumerAgreement.refreshNow).
                throw new IllegalStateException("agreement '" + agreement + "': " + s.lastError());
            }
            return s;
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the refresh from '" + agreement + "' did not finish within " + timeout.toSeconds()
                    + " s: " + r.status().lastError());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while refreshing", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("the refresh from '" + agreement + "' failed: " + e.getCause(), e.getCause());
        }
    }

    /**
     * Pins a consumer while the node runs: it may connect from its next handshake on.
     *
     * @throws IllegalArgumentException its name or its key is pinned already
     */
    public void addConsumer(ConsumerPin p) {
        synchronized (sessionsOf) {
            for (ConsumerPin q : pins.values()) {
                if (q.name().equals(p.name())) {
                    throw new PeerExistsException("a consumer named '" + p.name() + "' is pinned already: remove it first to pin another key");
                }
            }
            ConsumerPin same = pins.get(p.keyHash());
            if (same != null) {
                throw new PeerExistsException("that key (SHA-256 " + p.keyHash() + ") is pinned already, as consumer '" + same.name()
                        + "': a key is one consumer");
            }
            pins.put(p.keyHash(), p);
        }
    }

    /** Unpins a consumer: its connections end and it cannot connect again. @return whether it was pinned */
    public boolean removeConsumer(String name) {
        ConsumerPin p;
        synchronized (sessionsOf) {
            p = pins.values().stream().filter(q -> q.name().equals(name)).findFirst().orElse(null);
            if (p == null) {
                return false;
            }
            pins.remove(p.keyHash());
        }
        server.closeSessionsOf(p.keyHash());
        // Nor is it pulled from any more, if it had asked for mutual pull.
        String back = identity.name() + "<-" + p.name() + " (mutual)";
        synchronized (this) {
            runners.stream().filter(r -> r.name().equals(back)).findFirst().ifPresent(r -> {
                runners.remove(r);
                r.close();
            });
        }
        return true;
    }

    /** Adds an agreement while the node runs, and starts it. @throws IllegalArgumentException its name is taken */
    public void addAgreement(Agreement a) {
        synchronized (runners) {
            if (runners.stream().anyMatch(r -> r.name().equals(a.name()))) {
                throw new PeerExistsException("an agreement named '" + a.name() + "' exists already: remove it first");
            }
            AgreementRunner r = runner(a);
            runners.add(r);
            r.start();
        }
    }

    /** Stops and removes an agreement. @return whether there was one of that name */
    public boolean removeAgreement(String name) {
        AgreementRunner r;
        synchronized (runners) {
            r = runners.stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
            if (r == null) {
                return false;
            }
            runners.remove(r);
        }
        r.close();
        return true;
    }

    private static final int MAX_ORIGIN_NAMES = 10_000;
    /** When each pinned key's last pull ended (keys are bounded by the pins). */
    private final java.util.Map<String, java.time.Instant> lastServed = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int RECENT_SESSIONS = 50;
    private final java.util.ArrayDeque<SessionRecord> recent = new java.util.ArrayDeque<>();

    /** One step of a replication session: a connection, a served refresh, a failure. */
    public record SessionRecord(java.time.Instant at, String who, String action, String target, String result) {
    }

    /** The last session steps, oldest first (at most 50). */
    public List<SessionRecord> recentSessions() {
        synchronized (recent) {
            return List.copyOf(recent);
        }
    }
    private final java.util.Map<dev.entente.engine.clock.OriginId, String> originNames = new java.util.concurrent.ConcurrentHashMap<>();

    /** The name of the peer whose Hello last named {@code origin} (its word: for people to read), or null. */
    public String nameOf(dev.entente.engine.clock.OriginId origin) {
        return originNames.get(origin);
    }

    /** A consumer pinned on this node, and the sessions it holds now (0: not connected). */
    public record ConsumerStatus(String name, String keyHash, int sessions, java.time.Instant lastPulled) {
    }

    /** The consumers this node supplies, by name. */
    public List<ConsumerStatus> consumers() {
        synchronized (sessionsOf) {
            return pins.values().stream().map(p -> new ConsumerStatus(p.name(), p.keyHash(), sessionsOf.getOrDefault(p.keyHash(), 0),
                            lastServed.get(p.keyHash())))
                    .sorted(java.util.Comparator.comparing(ConsumerStatus::name)).toList();
        }
    }

    /** The largest send buffer of the consumers' connections, in bytes: bounded by credit's worth of batches plus 1 MiB. */
    long largestSendBuffer() {
        return server.largestSendBuffer();
    }

    public RefusalLog refusals() {
        return refusals;
    }

    /** Stops pulling and serving; the engine stays open (its owner closes it). */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        runners.forEach(AgreementRunner::close);
        server.close();
        shutdownThreads();
    }

    private void shutdownThreads() {
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        pool.shutdown();
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
