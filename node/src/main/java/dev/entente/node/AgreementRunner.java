package dev.entente.node;

import dev.entente.engine.ApplyResult;
import dev.entente.engine.ChangeBatch;
import dev.entente.engine.ChangeGapException;
import dev.entente.engine.ClockSkewException;
import dev.entente.engine.Engine;
import dev.entente.engine.HybridClock;
import dev.entente.engine.MalformedChangeException;
import dev.entente.engine.RefreshRequiredException;
import dev.entente.engine.SnapshotImport;
import dev.entente.node.AgreementStatus.State;
import dev.entente.protocol.FrameDecoder;
import dev.entente.protocol.FrameEncoder;
import dev.entente.protocol.FrameException;
import dev.entente.protocol.ProtocolVersion;
import dev.entente.protocol.SessionMessages;
import dev.entente.protocol.SessionMessages.Frame;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The consumer side of one agreement: keeps a TLS connection to the supplier, pulls the changes
 * this node lacks and applies them batch by batch (granting credit as each is committed, so at
 * most {@code credit} batches are ever in memory), pulls again at once when the supplier says
 * changes are available, and on an interval otherwise. When the supplier says this node must be
 * refreshed, it refreshes from it if the agreement allows. Failures back off with jitter and the
 * connection is re-established.
 */
final class AgreementRunner implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(AgreementRunner.class.getName());

    private final Agreement agreement;
    private final Engine engine;
    private final String nodeName;
    private final SslContext tls;
    private final EventLoopGroup group;
    private final SerialExecutor serial;
    private final TransportOptions options;
    private final RefusalLog refusals;
    private final java.util.function.IntSupplier localPort;
    private final SessionLog sessions;
    private Channel channel;
    private State state = State.CONNECTING;
    private long backoffMillis;
    private ScheduledFuture<?> timer;
    private SnapshotImport imp;
    private boolean stopped;
    private Instant lastSuccess;
    private String lastError;
    private long changesApplied;
    private long batches;
    private long bytes;
    private long lagMillis;
    private long refreshes;
    private long pulls;
    private long pullNanos;
    private long pullStarted;
    /** Connection attempts started; only the latest one may become the session's channel. */
    private long connectAttempts;
    /** A pull is scheduled by {@link #changesAvailable}; further notifications add nothing. */
    private boolean spacedPullPending;
    /** The shortest time between the starts of two pulls that notifications trigger. */
    static final long PULL_SPACING_NANOS = 3_000_000;

    AgreementRunner(Agreement agreement, Engine engine, String nodeName, SslContext tls, EventLoopGroup group, Executor pool,
                    TransportOptions options, RefusalLog refusals, java.util.function.IntSupplier localPort, SessionLog sessions) {
        this.localPort = localPort;
        this.sessions = sessions;
        this.agreement = agreement;
        this.engine = engine;
        this.nodeName = nodeName;
        this.tls = tls;
        this.group = group;
        this.serial = new SerialExecutor(pool);
        this.options = options;
        this.refusals = refusals;
        this.backoffMillis = options.minBackoff().toMillis();
    }

    void start() {
        serial.execute(this::connect);
    }

    private record Waiter(java.util.concurrent.CompletableFuture<SyncResult> future, long startNanos, long applied, long batches, long bytes) {
    }

    private final List<Waiter> waiting = new java.util.ArrayList<>();

    /** Pulls now (or as soon as the agreement is connected) and completes when that pull ends or fails. */
    java.util.concurrent.CompletableFuture<SyncResult> sync() {
        java.util.concurrent.CompletableFuture<SyncResult> f = new java.util.concurrent.CompletableFuture<>();
        serial.execute(() -> {
            synchronized (this) {
                waiting.add(new Waiter(f, System.nanoTime(), changesApplied, batches, bytes));
            }
            if (state == State.IDLE) {
                pull();
            } else if (state == State.BACKOFF) {
                // An operator asking for a sync (say, after repairing the network) wants it now,
                // not after a backoff that may have grown to its maximum.
                cancelTimer();
                connect();
            }
        });
        return f;
    }

    private void completeWaiters(String error) {
        List<Waiter> done;
        synchronized (this) {
            done = new java.util.ArrayList<>(waiting);
            waiting.clear();
        }
        for (Waiter w : done) {
            w.future().complete(new SyncResult(agreement.name(), error == null, changesApplied - w.applied(), batches - w.batches(),
                    bytes - w.bytes(), (System.nanoTime() - w.startNanos()) / 1_000_000, error));
        }
    }

    /** Refreshes this node from this agreement's supplier as soon as it is connected (an operator's request). */
    void refreshNow() {
        serial.execute(() -> {
            if (state == State.IDLE || state == State.REFRESH_REQUIRED) {
                refresh();
            } else if (state == State.BACKOFF || state == State.CONNECTING) {
                cancelTimer();
                connect();
            }
        });
    }

    /** Pulls now if the agreement is idle (a sync request, or a commit nearby). */
    void pullNow() {
        serial.execute(() -> {
            if (state == State.IDLE) {
                pull();
            }
        });
    }

    String name() {
        return agreement.name();
    }

    synchronized AgreementStatus status() {
        return new AgreementStatus(agreement.name(), agreement.supplier().toString(), state, lastSuccess, lastError,
                changesApplied, batches, bytes, lagMillis, refreshes, pulls, pullNanos / 1_000_000);
    }

    private synchronized void setState(State s) {
        state = s;
    }

    private void connect() {
        if (stopped) {
            return;
        }
        setState(State.CONNECTING);
        // A newer attempt supersedes this one: a sync or refresh request may start one while a
        // backoff timer's attempt is already queued, and only one connection may be the session.
        long attempt = ++connectAttempts;
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) options.handshakeTimeout().toMillis())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SslHandler ssl = tls.newHandler(ch.alloc(), agreement.supplier().getHostString(), agreement.supplier().getPort());
                        ssl.setHandshakeTimeoutMillis(options.handshakeTimeout().toMillis());
                        ch.pipeline().addLast("tls", ssl)
                                .addLast("frames-in", new FrameDecoder(options.maxFrameBytes()))
                                .addLast("frames-out", new FrameEncoder(options.maxFrameBytes()))
                                .addLast("session", new Handler(ssl, attempt));
                    }
                });
        b.connect(agreement.supplier()).addListener(f -> {
            if (!f.isSuccess()) {
                serial.execute(() -> {
                    if (attempt == connectAttempts) {
                        failed(SessionMessages.Error.Code.CODE_UNSPECIFIED,
                                "cannot connect to supplier " + agreement.supplier() + ": " + f.cause().getMessage());
                    }
                });
            }
        });
    }

    private final class Handler extends SimpleChannelInboundHandler<Frame> {
        private final SslHandler ssl;
        private final long attempt;

        Handler(SslHandler ssl, long attempt) {
            this.ssl = ssl;
            this.attempt = attempt;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            Channel ch = ctx.channel();
            ssl.handshakeFuture().addListener(f -> serial.execute(() -> {
                if (attempt != connectAttempts) {
                    ch.close();
                } else if (f.isSuccess()) {
                    hello(ch);
                } else {
                    failed(SessionMessages.Error.Code.NOT_AUTHORIZED, TransportErrors.describe(f.cause()));
                    ch.close();
                }
            }));
            super.channelActive(ctx);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
            Channel ch = ctx.channel();
            if (frame.getBodyCase() == Frame.BodyCase.BATCH) {
                // Decode on the network thread while the previous batch commits on the session's.
                Object p = prepare(frame.getBatch());
                serial.execute(() -> {
                    if (ch == channel) {
                        batch(p);
                    }
                });
                return;
            }
            serial.execute(() -> {
                if (ch == channel) {
                    handle(frame);
                }
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            serial.execute(() -> {
                if (ch == channel && !stopped && state != State.BACKOFF) {
                    failed(SessionMessages.Error.Code.CODE_UNSPECIFIED, "the connection to supplier " + agreement.supplier() + " was lost");
                }
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            Channel ch = ctx.channel();
            serial.execute(() -> {
                if (ch == channel || channel == null) {
                    if (c instanceof FrameException fe) {
                        ch.writeAndFlush(Frames.error(fe.code(), fe.getMessage()));
                        failed(fe.code(), "from supplier: " + fe.getMessage());
                    } else {
                        failed(SessionMessages.Error.Code.NOT_AUTHORIZED, TransportErrors.describe(c));
                    }
                }
            });
            ctx.close();
        }
    }

    private void hello(Channel ch) {
        if (stopped) {
            ch.close();
            return;
        }
        channel = ch;
        setState(State.CONNECTED);
        helloJoining = engine.refreshRequired().isPresent();
        send(Frames.hello(nodeName, engine.originId(), engine.domainId(), helloJoining,
                agreement.mode() == Agreement.Mode.MUTUAL_PULL ? localPort.getAsInt() : 0));
    }

    private void handle(Frame f) {
        try {
            switch (f.getBodyCase()) {
                case HELLO -> supplierHello(f.getHello());
                case BATCH -> batch(prepare(f.getBatch()));
                case CHUNK -> chunk(f.getChunk());
                case END -> end(f.getEnd());
                case AVAILABLE -> changesAvailable();
                case ERROR -> supplierError(f.getError());
                default -> failed(SessionMessages.Error.Code.UNEXPECTED_MESSAGE, "supplier sent " + f.getBodyCase() + ", which a consumer does not expect");
            }
        } catch (FrameException e) {
            failed(e.code(), e.getMessage());
        }
    }

    private void supplierHello(SessionMessages.Hello h) {
        sessions.record(agreement.name(), "connect", agreement.supplier().toString(), "ok: supplier '" + h.getNodeName() + "'");
        if (h.getProtocolVersion() != ProtocolVersion.CURRENT) {
            failed(SessionMessages.Error.Code.PROTOCOL_VERSION, "supplier '" + h.getNodeName() + "' speaks protocol version " + h.getProtocolVersion()
                    + " but this node speaks " + ProtocolVersion.CURRENT + ": run the same Entente version on both");
            return;
        }
        java.util.UUID domain = Frames.uuid(h.getDomainId());
        if (engine.refreshRequired().isEmpty() && !engine.domainId().equals(domain)) {
            failed(SessionMessages.Error.Code.DOMAIN_MISMATCH, "supplier '" + h.getNodeName() + "' is in domain " + domain
                    + " but this node is in domain " + engine.domainId() + ": nodes of different domains never replicate");
            return;
        }
        next();
    }

    /** Whether this connection's Hello said the node was joining (it may only ask for a refresh then). */
    private boolean helloJoining;

    private void next() {
        if (helloJoining && engine.refreshRequired().isEmpty()) {
            // Refreshed meanwhile (by another agreement): say Hello again as a member, and pull.
            LOG.log(System.Logger.Level.INFO, "agreement '" + agreement.name() + "': this node has joined; reconnecting as a member");
            Channel ch = channel;
            channel = null;
            if (ch != null) {
                ch.close();
            }
            connect();
            return;
        }
        if (engine.refreshRequired().isPresent()) {
            if (agreement.automaticRefresh()) {
                refresh();
            } else {
                setState(State.REFRESH_REQUIRED);
                synchronized (this) {
                    lastError = "REFRESH_REQUIRED: " + engine.refreshRequired().get() + "; refresh this node (automaticRefresh is off)";
                }
                LOG.log(System.Logger.Level.WARNING, "agreement '" + agreement.name() + "': " + lastError);
                schedule(agreement.interval().toMillis(), this::next);
            }
            return;
        }
        pull();
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
        long wait = pullStarted + PULL_SPACING_NANOS - System.nanoTime();
        if (wait <= 0) {
            pull();
            return;
        }
        schedule(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait + 999_999)), () -> {
            if (state == State.IDLE) {
                pull();
            }
        });
        spacedPullPending = true;
    }

    private void pull() {
        cancelTimer();
        setState(State.PULLING);
        pullStarted = System.nanoTime();
        send(Frame.newBuilder().setPull(SessionMessages.PullRequest.newBuilder().setRuv(Frames.ruv(engine.ruv()))
                .setCredit(options.credit()).setMaxBatchRecords(options.batchRecords()).setMaxBatchBytes(options.batchBytes())
                .setFollow(true)).build());
    }

    private void refresh() {
        cancelTimer();
        setState(State.REFRESHING);
        LOG.log(System.Logger.Level.INFO, "agreement '" + agreement.name() + "': refreshing this node from " + agreement.supplier());
        send(Frame.newBuilder().setRefresh(SessionMessages.RefreshRequest.newBuilder().setCredit(options.credit())
                .setMaxChunkBytes(options.batchBytes())).build());
    }

    /** The decoded batch, or the exception decoding it raised (to be reported in order, with the session's other events). */
    private Object prepare(SessionMessages.Batch b) {
        try {
            return engine.prepareChanges(ChangeBatch.of(b.getRecordsList()), agreement.name());
        } catch (RuntimeException e) {
            return e;
        }
    }

    /** @param prepared the decoded batch, or the exception that decoding it raised */
    private void batch(Object prepared) {
        if (state != State.PULLING) {
            failed(SessionMessages.Error.Code.UNEXPECTED_MESSAGE, "supplier sent a batch while " + state);
            return;
        }
        try {
            if (prepared instanceof RuntimeException e) {
                throw e;
            }
            dev.entente.engine.PreparedBatch p = (dev.entente.engine.PreparedBatch) prepared;
            ChangeBatch batch = p.batch();
            ApplyResult r = engine.applyChanges(p);
            synchronized (this) {
                changesApplied += r.applied();
                batches++;
                bytes += batch.bytes();
                lagMillis = Math.max(0, engine.clock().nowMillis() - HybridClock.physicalMillis(engine.ruv().maxHlc()));
            }
        } catch (ChangeGapException | ClockSkewException | MalformedChangeException e) {
            send(Frames.error(SessionMessages.Error.Code.CHANGE_GAP, e.getMessage()));
            failed(SessionMessages.Error.Code.CHANGE_GAP, e.getMessage());
            return;
        } catch (RefreshRequiredException e) {
            LOG.log(System.Logger.Level.WARNING, "agreement '" + agreement.name() + "': " + e.getMessage());
            next();
            return;
        }
        send(Frames.credit(1));
    }

    private void chunk(SessionMessages.RefreshChunk c) {
        if (state != State.REFRESHING) {
            failed(SessionMessages.Error.Code.UNEXPECTED_MESSAGE, "supplier sent a snapshot chunk while " + state);
            return;
        }
        try {
            if (imp == null) {
                imp = engine.beginRefresh(agreement.name());
            }
            imp.accept(c.getChunk());
            synchronized (this) {
                bytes += c.getChunk().size();
            }
        } catch (RuntimeException e) {
            failed(SessionMessages.Error.Code.MALFORMED_FRAME, "refresh from " + agreement.supplier() + " failed: " + e.getMessage());
            return;
        }
        send(Frames.credit(1));
    }

    private void end(SessionMessages.EndOfStream e) {
        if (state == State.REFRESHING) {
            try {
                if (imp == null) {
                    failed(SessionMessages.Error.Code.UNEXPECTED_MESSAGE, "the refresh ended before any snapshot chunk");
                    return;
                }
                if (engine.refreshRequired().isEmpty()) {
                    // Another agreement refreshed this node meanwhile, and it may have written
                    // since: this snapshot would discard those writes.
                    abortRefresh();
                    helloJoining = true;
                    LOG.log(System.Logger.Level.INFO, "agreement '" + agreement.name() + "': this node was refreshed meanwhile; the snapshot is dropped");
                    next();
                    return;
                }
                imp.complete();
                imp.close();
                imp = null;
                synchronized (this) {
                    refreshes++;
                }
                LOG.log(System.Logger.Level.INFO, "agreement '" + agreement.name() + "': refreshed; this node's origin is now " + engine.originId());
                sessions.record(agreement.name(), "refresh", agreement.supplier().toString(), "ok: new origin " + engine.originId());
            } catch (RuntimeException ex) {
                failed(SessionMessages.Error.Code.INTERNAL, "completing the refresh from " + agreement.supplier() + " failed: " + ex.getMessage());
                return;
            }
            next();
            return;
        }
        if (state != State.PULLING) {
            failed(SessionMessages.Error.Code.UNEXPECTED_MESSAGE, "supplier ended a stream while " + state);
            return;
        }
        List<String> missing = engine.missingFrom(Frames.ruv(e.getRuv()));
        if (!missing.isEmpty()) {
            failed(SessionMessages.Error.Code.CHANGE_GAP, "the supplier's stream ended but this node still lacks " + missing);
            return;
        }
        synchronized (this) {
            lastSuccess = Instant.now();
            lastError = null;
            pulls++;
            pullNanos += System.nanoTime() - pullStarted;
        }
        backoffMillis = options.minBackoff().toMillis();
        setState(State.IDLE);
        completeWaiters(null);
        schedule(agreement.interval().toMillis(), () -> {
            if (state == State.IDLE) {
                pull();
            }
        });
    }

    private void supplierError(SessionMessages.Error e) {
        String reason = e.getCode() + ": " + e.getMessage();
        if (e.getCode() == SessionMessages.Error.Code.REFRESH_REQUIRED) {
            if (engine.refreshRequired().isEmpty()) {
                engine.markRefreshRequired("supplier of agreement '" + agreement.name() + "' says: " + e.getMessage());
            }
            refusals.refused(agreement.name(), e.getCode(), e.getMessage());
            LOG.log(System.Logger.Level.WARNING, "agreement '" + agreement.name() + "': " + reason);
            next();
            return;
        }
        failed(e.getCode(), "supplier refused: " + reason);
    }

    private void failed(SessionMessages.Error.Code code, String reason) {
        if (stopped) {
            return;
        }
        synchronized (this) {
            lastError = reason;
        }
        refusals.refused(agreement.name(), code, reason);
        sessions.record(agreement.name(), "session", agreement.supplier().toString(), "failed: " + reason);
        LOG.log(System.Logger.Level.WARNING, "agreement '" + agreement.name() + "' with " + agreement.supplier() + ": " + reason
                + "; retrying in about " + backoffMillis + " ms");
        completeWaiters(reason);
        abortRefresh();
        Channel ch = channel;
        channel = null;
        if (ch != null) {
            ch.close();
        }
        setState(State.BACKOFF);
        long delay = backoffMillis / 2 + ThreadLocalRandom.current().nextLong(backoffMillis / 2 + 1);
        backoffMillis = Math.min(options.maxBackoff().toMillis(), backoffMillis * 2);
        schedule(delay, () -> {
            if (state == State.BACKOFF) {
                connect();
            }
        });
    }

    private void abortRefresh() {
        if (imp != null) {
            imp.close();
            imp = null;
        }
    }

    private void send(Frame f) {
        Channel ch = channel;
        if (ch != null) {
            ch.writeAndFlush(f, ch.voidPromise());
        }
    }

    private void schedule(long millis, Runnable task) {
        cancelTimer();
        timer = group.next().schedule(() -> serial.execute(task), millis, TimeUnit.MILLISECONDS);
    }

    private void cancelTimer() {
        spacedPullPending = false;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void close() {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        serial.execute(() -> {
            stopped = true;
            setState(State.STOPPED);
            completeWaiters("the node is stopping");
            cancelTimer();
            abortRefresh();
            if (channel != null) {
                channel.close();
                channel = null;
            }
            done.countDown();
        });
        try {
            done.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
