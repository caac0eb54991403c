package dev.entente.node;

import dev.entente.config.NodeConfig;
import dev.entente.config.RuntimePeers;
import dev.entente.engine.session.AgreementStatus;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.StoreFailure;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A running node built from its configuration: the engine on {@code dataDirectory/data}, the
 * identity in {@code dataDirectory/identity}, replication (serving the pinned consumers, pulling
 * along the agreements), and window trimming on a timer. Embed it in a server, or run it with
 * {@code entente node}. Closing it stops replication first (the batch in flight is committed or
 * dropped whole), then the engine.
 */
public final class EntenteNode implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EntenteNode.class);

    /** The configuration as given (node.yaml); {@link #config} is it with the peers changed at run time. */
    private final NodeConfig fileConfig;
    private volatile NodeConfig config;
    /** The peers changed at run time, as peers.json holds them; written under {@link #peersLock}. */
    private volatile RuntimePeers runtime;
    private final Object peersLock = new Object();
    private final Engine engine;
    private final NodeIdentity identity;
    private final ReplicationNode replication;
    private final ScheduledExecutorService maintenance;
    private final io.netty.channel.EventLoopGroup adminLoop;
    private final java.util.concurrent.ExecutorService adminPool;
    /** Threads of their own for long admin operations (sync, refresh, backup). */
    private final java.util.concurrent.ExecutorService adminLongPool;
    private final AuditLog audit;
    private final NodeMetrics metrics;
    private final AdminServer admin;

    /** What an operator should fix, found at start: shown in the log and in status. */
    private final List<String> warnings = new ArrayList<>();
    /** Backups being written now (scheduled or asked for), for status. */
    private final java.util.Set<Backup.Running> runningBackups = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Told once when the store has failed for engine.stopAfterStoreFailure (not a full disk). */
    private final java.util.function.Consumer<String> onStoreStuck;
    /** The store failure last logged, on the maintenance thread; null while the store writes. */
    private StoreFailure reportedFailure;
    private long failingSinceNanos;
    private boolean stuckReported;
    private boolean watchFailed;

    /** Why a new node that joins a domain must be refreshed first. */
    public static final String JOINING = "new node: it joins the domain by refreshing from its first agreement's supplier";

    private EntenteNode(NodeConfig fileConfig, java.util.function.Consumer<String> onStoreStuck, boolean join) {
        this.fileConfig = fileConfig;
        this.runtime = RuntimePeers.load(fileConfig.dataDirectory());
        NodeConfig config = runtime.applyTo(fileConfig);
        this.config = config;
        this.onStoreStuck = onStoreStuck;
        if (join && config.agreements().isEmpty()) {
            throw new IllegalArgumentException("node '" + config.name() + "' cannot join a domain without an agreement: add one (agreements),"
                    + " whose supplier it refreshes from; or start it as the first node of a new domain (EntenteNode.start)");
        }
        try {
            FileModes.ownerOnlyDirectory(config.dataDirectory());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot make the data directory " + config.dataDirectory() + " owner-only (dataDirectory): "
                    + e.getMessage(), e);
        }
        this.identity = NodeIdentity.load(identityDirectory(config.dataDirectory()));
        checkFiles();
        checkDescriptorLimit();
        warnings.forEach(w -> LOG.warn(w));
        this.audit = new AuditLog(config.dataDirectory().resolve("audit.log"));
        NodeConfig.EngineSettings s = config.engine();
        boolean newStore = !java.nio.file.Files.exists(engineDirectory(config.dataDirectory()));
        this.engine = Engine.open(EngineOptions.builder(engineDirectory(config.dataDirectory())).window(s.window())
                .maxClockSkew(s.maxClockSkew()).syncWrites(s.syncWrites()).blockCacheBytes(s.blockCacheBytes())
                .writeBufferBytes(s.writeBufferBytes()).maxValueBytes(s.maxValueBytes()).maxTransactionBytes(s.maxTransactionBytes()).build());
        try {
            if (join && newStore) {
                // The node's first start: it refreshes from its first agreement's supplier (by its
                // certificate's name, as the agreement knows it) before anything else.
                NodeConfig.AgreementConfig first = config.agreements().get(0);
                engine.markRefreshRequired(JOINING, NodeIdentity.nameOf(NodeIdentity.parseCertificate(first.certificatePem(), "agreement '" + first.name() + "'")));
            }
            List<ConsumerPin> consumers = new ArrayList<>();
            for (NodeConfig.Peer p : config.consumers()) {
                consumers.add(new ConsumerPin(p.name(), NodeIdentity.parseCertificate(p.certificatePem(), "replication.consumers '" + p.name() + "'"),
                        p.mutual()));
            }
            List<Agreement> agreements = new ArrayList<>();
            for (NodeConfig.AgreementConfig a : config.agreements()) {
                X509Certificate cert = NodeIdentity.parseCertificate(a.certificatePem(), "agreement '" + a.name() + "'");
                agreements.add(new Agreement(a.name(), new InetSocketAddress(a.supplier().host(), a.supplier().port()), cert,
                        a.mode() == NodeConfig.Mode.PULL ? Agreement.Mode.PULL : Agreement.Mode.MUTUAL_PULL, a.interval(), a.automaticRefresh()));
            }
            this.replication = ReplicationNode.start(engine, identity,
                    new InetSocketAddress(config.replicationListen().host(), config.replicationListen().port()), consumers, agreements,
                    TransportOptions.DEFAULTS, audit::record);
        } catch (RuntimeException e) {
            engine.close();
            audit.close();
            throw e;
        }
        this.maintenance = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "entente-maintenance-" + config.name());
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(1000, Math.min(config.engine().window().toMillis() / 20, 600_000));
        maintenance.scheduleWithFixedDelay(this::trim, every, every, TimeUnit.MILLISECONDS);
        maintenance.scheduleWithFixedDelay(this::watchStore, 1, 1, TimeUnit.SECONDS);
        if (config.backup().every() != null) {
            long period = config.backup().every().toMillis();
            maintenance.scheduleWithFixedDelay(this::scheduledBackup, period, period, TimeUnit.MILLISECONDS);
        }
        this.metrics = new NodeMetrics(this);
        if (config.adminListen() == null) {
            // admin.listen: off: the embedding server has its own API.
            this.adminLoop = null;
            this.adminPool = null;
            this.adminLongPool = null;
            this.admin = null;
            return;
        }
        this.adminLoop = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
        this.adminPool = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "entente-admin-" + config.name());
            t.setDaemon(true);
            return t;
        });
        this.adminLongPool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "entente-admin-long-" + config.name());
            t.setDaemon(true);
            return t;
        });
        try {
            this.admin = new AdminServer(new InetSocketAddress(config.adminListen().host(), config.adminListen().port()),
                    config.adminToken().value(), config.adminLimits(), new AdminApi(this, audit), this::healthProblem, metrics::scrape, adminLoop,
                    adminLoop, adminPool, adminLongPool);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        LOG.info("node '" + config.name() + "' serves its admin API on " + admin.address());
    }

    /**
     * Warns about what others could read or what will soon stop working: a key or token readable
     * by others, a certificate that expires within 14 days or has expired.
     */
    private void checkFiles() {
        Path key = identityDirectory(config.dataDirectory()).resolve(NodeIdentity.KEY_FILE);
        if (FileModes.readableByOthers(key)) {
            warnings.add("the private key " + key + " is readable by others: chmod 600 " + key);
        }
        if (config.adminTokenFile() != null && FileModes.readableByOthers(config.adminTokenFile())) {
            warnings.add("the admin token file " + config.adminTokenFile() + " is readable by others: chmod 600 " + config.adminTokenFile());
        }
        java.time.Instant notAfter = identity.certificate().getNotAfter().toInstant();
        java.time.Instant now = java.time.Instant.now();
        if (notAfter.isBefore(now)) {
            warnings.add("this node's certificate expired at " + notAfter + ": peers refuse it; renew it (entente cert renew) and give them the new cert.pem");
        } else if (notAfter.isBefore(now.plus(java.time.Duration.ofDays(14)))) {
            warnings.add("this node's certificate expires at " + notAfter + ", within 14 days: renew it (entente cert renew) and give peers the new cert.pem");
        }
    }

    /** Takes a backup on the schedule, then keeps the newest {@code backup.keep} scheduled ones. */
    private void scheduledBackup() {
        try {
            Backup.Result r = Backup.create(this, Backup.defaultName(config.name(), java.time.Instant.now()), false);
            audit.record("schedule", "backup", r.file().toString(), "ok");
            List<Path> deleted = Backup.prune(config.backup().directory(), config.name(), config.backup().keep());
            LOG.info("backup " + r.file() + " (" + r.bytes() + " bytes)"
                    + (deleted.isEmpty() ? "" : "; deleted the older " + deleted.stream().map(p -> p.getFileName().toString()).toList()));
        } catch (RuntimeException | java.io.IOException e) {
            audit.record("schedule", "backup", String.valueOf(config.backup().directory()), "failed: " + e.getMessage());
            LOG.error("the scheduled backup failed: " + e.getMessage() + " (backup.directory " + config.backup().directory() + ")", e);
        }
    }

    /** What an operator should fix, found at start. */
    java.util.Set<Backup.Running> runningBackups() {
        return runningBackups;
    }

    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    /** Why the node should not take traffic now, or null when it should. */
    private String healthProblem() {
        return engine.refreshRequired().map(r -> "refresh required: " + r)
                .or(() -> engine.storeProblem().map(p -> "the store cannot write: " + p)).orElse(null);
    }

    /** Where the admin API listens; null when it is off ({@code admin.listen: off}). */
    public InetSocketAddress adminAddress() {
        return admin == null ? null : admin.address();
    }

    public AuditLog audit() {
        return audit;
    }

    /**
     * Starts the node its configuration describes; its identity must exist (entente init). A
     * store that cannot write is logged and fails health until it recovers; an embedding server
     * that wants to restart on a lasting failure uses {@link #start(NodeConfig, java.util.function.Consumer)}.
     */
    public static EntenteNode start(NodeConfig config) {
        return new EntenteNode(config, reason -> {
        }, false);
    }

    /**
     * Starts a node that joins an existing domain: on its first start (an empty store) it is
     * marked for refresh and takes the domain, content and all, from its first agreement's
     * supplier before it takes writes; on later starts it simply starts. {@link #start} instead
     * makes an empty store the first node of a new domain.
     *
     * @throws IllegalArgumentException the configuration has no agreement to join by
     */
    public static EntenteNode join(NodeConfig config) {
        return new EntenteNode(config, reason -> {
        }, true);
    }

    /** {@link #join(NodeConfig)}, with {@code onStoreStuck} as in {@link #start(NodeConfig, java.util.function.Consumer)}. */
    public static EntenteNode join(NodeConfig config, java.util.function.Consumer<String> onStoreStuck) {
        return new EntenteNode(config, onStoreStuck, true);
    }

    /**
     * Starts the node, calling {@code onStoreStuck} once (on a maintenance thread) with what went
     * wrong when its store has been unable to commit for {@code engine.stopAfterStoreFailure}, for
     * a cause other than a full disk. RocksDB clears such an error (a file it could not open, a
     * write the volume refused) only when it opens the store again: the caller closes this node
     * and starts it again, or exits for its service manager to do so; committed data is safe.
     */
    public static EntenteNode start(NodeConfig config, java.util.function.Consumer<String> onStoreStuck) {
        return new EntenteNode(config, onStoreStuck, false);
    }

    public static Path identityDirectory(Path dataDirectory) {
        return dataDirectory.resolve("identity");
    }

    public static Path engineDirectory(Path dataDirectory) {
        return dataDirectory.resolve("data");
    }

    private void trim() {
        try {
            var r = engine.trimWindow();
            if (r.changesTrimmed() + r.tombstonesReaped() > 0) {
                LOG.info("trimmed " + r.changesTrimmed() + " changes, reaped " + r.tombstonesReaped() + " tombstones");
            }
        } catch (RuntimeException e) {
            LOG.error("window trimming failed: " + e.getMessage(), e);
        }
    }

    /**
     * Once a second: logs when the store stops and starts writing again, and reports a failure
     * that outlasts {@code engine.stopAfterStoreFailure}. A full disk is never reported as stuck:
     * a restart cannot free space, and writes resume by themselves once there is some.
     */
    private void watchStore() {
        try {
            java.util.Optional<StoreFailure> now = engine.storeFailure();
            if (now.isPresent()) {
                StoreFailure f = now.get();
                if (reportedFailure == null) {
                    LOG.error("the store cannot write: " + f.reason() + ". Writes are refused (503) and health fails; reads go on; "
                            + (f.diskFull() ? "writes resume by themselves once space is freed"
                            : "a write is tried each second, and the node stops for a restart if the store still cannot write after "
                            + dev.entente.config.ConfigExport.duration(config.engine().stopAfterStoreFailure()) + " (engine.stopAfterStoreFailure)"));
                }
                if (reportedFailure == null || !f.since().equals(reportedFailure.since())) {
                    // Timed on this process's monotonic clock, so a wall-clock jump neither
                    // hastens nor delays a restart; the store starts the count again when the
                    // disk stops being full.
                    failingSinceNanos = System.nanoTime();
                }
                reportedFailure = f;
                Duration failing = Duration.ofNanos(System.nanoTime() - failingSinceNanos);
                if (!f.diskFull() && !stuckReported && failing.compareTo(config.engine().stopAfterStoreFailure()) >= 0) {
                    stuckReported = true;
                    String reason = "the store has not been able to write for " + failing.toSeconds() + " s (" + f.reason()
                            + "); RocksDB clears such an error only when it opens the store again";
                    LOG.error(reason);
                    onStoreStuck.accept(reason);
                }
            } else if (reportedFailure != null) {
                LOG.info("the store writes again, " + Duration.ofNanos(System.nanoTime() - failingSinceNanos).toSeconds()
                        + " s after it stopped: RocksDB resumed by itself once the cause was gone");
                reportedFailure = null;
                stuckReported = false;
            }
            watchFailed = false;
        } catch (RuntimeException e) {
            if (!watchFailed) {
                watchFailed = true;
                LOG.error("checking the store failed: " + e.getMessage() + " (logged once until a check succeeds)", e);
            }
        }
    }

    /**
     * Warns when the process may open fewer descriptors than the connections the node accepts
     * and the store's files need, so that a flood of connections cannot leave the store without
     * a file it must open.
     */
    private void checkDescriptorLimit() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            long max = unix.getMaxFileDescriptorCount();
            long need = (long) config.adminLimits().maxConnections() + TransportOptions.DEFAULTS.maxSessions() + STORE_DESCRIPTORS;
            if (max < need) {
                warnings.add("the process may open " + max + " files and sockets, fewer than the " + need + " that admin.maxConnections ("
                        + config.adminLimits().maxConnections() + "), the replication server's " + TransportOptions.DEFAULTS.maxSessions()
                        + " connections and the store's files (" + STORE_DESCRIPTORS + ") may take: raise the limit (LimitNOFILE= in a "
                        + "systemd unit, ulimit -n) or lower admin.maxConnections");
            }
        }
    }

    /** Descriptors kept aside for the store's files (two stores of at most 200 table files each during a refresh), logs and backups. */
    static final int STORE_DESCRIPTORS = 512;

    /** The configuration in effect: node.yaml's, with the peers added and removed at run time. */
    public NodeConfig config() {
        return config;
    }

    /** The peers changed at run time (peers.json). */
    public RuntimePeers runtimePeers() {
        return runtime;
    }

    /**
     * Pins a consumer while the node runs, and keeps it across restarts (peers.json).
     *
     * @throws IllegalArgumentException a bad name or certificate, or one pinned already
     */
    public void addConsumer(String name, String certificatePem, boolean mutual) {
        checkPeerName(name, "consumer");
        java.security.cert.X509Certificate cert = NodeIdentity.parseCertificate(certificatePem, "consumer '" + name + "'");
        synchronized (peersLock) {
            replication.addConsumer(new ConsumerPin(name, cert, mutual));
            try {
                keep(runtime.withConsumer(new NodeConfig.Peer(name, certificatePem, "added at run time", mutual)));
            } catch (RuntimeException e) {
                replication.removeConsumer(name);
                throw e;
            }
        }
    }

    /** Unpins a consumer (its connections end), across restarts too. @return whether it was pinned */
    public boolean removeConsumer(String name) {
        synchronized (peersLock) {
            if (config.consumers().stream().noneMatch(p -> p.name().equals(name))) {
                return false;
            }
            keep(runtime.withoutConsumer(name, fileConfig.consumers().stream().anyMatch(p -> p.name().equals(name))));
            return replication.removeConsumer(name);
        }
    }

    /**
     * Adds an agreement while the node runs, once its supplier has answered: reachable, with the
     * pinned certificate, and pinning this node. Kept across restarts (peers.json).
     *
     * @throws IllegalArgumentException a bad name, address or certificate, or a name taken
     * @throws IllegalStateException the supplier did not accept a session within {@code probe}: why
     */
    public void addAgreement(String name, String supplier, String certificatePem, Duration interval, boolean mutualPull, Duration probe) {
        checkPeerName(name, "agreement");
        dev.entente.config.HostPort at;
        try {
            at = dev.entente.config.HostPort.parse(supplier);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("supplier '" + supplier + "' is " + e.getMessage());
        }
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive, got " + interval);
        }
        java.security.cert.X509Certificate cert = NodeIdentity.parseCertificate(certificatePem, "agreement '" + name + "'");
        NodeConfig.AgreementConfig ac = new NodeConfig.AgreementConfig(name, at, certificatePem, "added at run time",
                mutualPull ? NodeConfig.Mode.MUTUAL_PULL : NodeConfig.Mode.PULL, interval, true);
        synchronized (peersLock) {
            replication.addAgreement(new Agreement(name, new InetSocketAddress(at.host(), at.port()), cert,
                    mutualPull ? Agreement.Mode.MUTUAL_PULL : Agreement.Mode.PULL, interval, true));
            try {
                awaitSession(name, probe);
                keep(runtime.withAgreement(ac));
            } catch (RuntimeException e) {
                replication.removeAgreement(name);
                throw e;
            }
        }
    }

    /** Waits until the agreement's supplier accepted a session (its Hello answered), or says why it did not. */
    private void awaitSession(String name, Duration probe) {
        long deadline = System.nanoTime() + probe.toNanos();
        while (true) {
            AgreementStatus s = replication.status().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            switch (s.state()) {
                case PULLING, REFRESHING, IDLE, REFRESH_REQUIRED -> {
                    return;
                }
                case BACKOFF -> throw new IllegalStateException("agreement '" + name + "' was not added: its supplier " + s.supplier()
                        + " did not accept a session: " + s.lastError());
                default -> {
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("agreement '" + name + "' was not added: its supplier " + s.supplier() + " did not answer within "
                        + probe.toSeconds() + " s (" + s.state() + (s.lastError() == null ? "" : ": " + s.lastError()) + ")");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while adding agreement '" + name + "'", e);
            }
        }
    }

    /** Stops and removes an agreement, across restarts too. @return whether there was one */
    public boolean removeAgreement(String name) {
        synchronized (peersLock) {
            if (config.agreements().stream().noneMatch(a -> a.name().equals(name))) {
                return false;
            }
            keep(runtime.withoutAgreement(name, fileConfig.agreements().stream().anyMatch(a -> a.name().equals(name))));
            return replication.removeAgreement(name);
        }
    }

    /** Writes the peers changed at run time, then puts them in effect; the caller holds the peers lock. */
    private void keep(RuntimePeers next) {
        next.save(fileConfig.dataDirectory());
        runtime = next;
        config = next.applyTo(fileConfig);
    }

    private static void checkPeerName(String name, String what) {
        if (name == null || !dev.entente.protocol.PeerText.isNodeName(name)) {
            throw new IllegalArgumentException("a " + what + " name is 1 to 64 letters, digits, '_', '.', '-', not '" + name + "'");
        }
    }

    public Engine engine() {
        return engine;
    }

    public NodeIdentity identity() {
        return identity;
    }

    public ReplicationNode replication() {
        return replication;
    }

    @Override
    public void close() {
        maintenance.shutdownNow();
        try {
            // A store check or trim in progress finishes before the engine closes under it.
            if (!maintenance.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("maintenance (trimming, a backup, the store check) did not stop within 30 s; closing the engine anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (admin != null) {
            admin.close();
        }
        if (adminLoop != null) {
            adminLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            adminPool.shutdown();
        }
        if (adminLongPool != null) {
            adminLongPool.shutdown();
        }
        try {
            replication.close();
        } finally {
            if (metrics != null) {
                metrics.close();
            }
            if (audit != null) {
                audit.close();
            }
            engine.close();
        }
    }
}
