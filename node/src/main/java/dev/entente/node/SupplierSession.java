package dev.entente.node;

import com.google.protobuf.ByteString;
import dev.entente.engine.ChangeBatch;
import dev.entente.engine.ChangeStream;
import dev.entente.engine.Engine;
import dev.entente.engine.RefreshRequiredException;
import dev.entente.engine.Ruv;
import dev.entente.engine.SnapshotExport;
import dev.entente.engine.SupplierLaggingException;
import dev.entente.protocol.FrameException;
import dev.entente.protocol.ProtocolVersion;
import dev.entente.protocol.SessionMessages;
import dev.entente.protocol.SessionMessages.Frame;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The supplier side of one consumer's connection: answers its Hello, then serves pull and
 * refresh requests, sending batches or snapshot chunks only as far as the consumer's credit
 * allows, and tells a following consumer when new changes are committed. The session's logic
 * runs serially off the network threads (engine calls block on RocksDB).
 */
final class SupplierSession extends SimpleChannelInboundHandler<Frame> {
    private static final System.Logger LOG = System.getLogger(SupplierSession.class.getName());

    private enum State { HELLO, READY, STREAMING, REFRESHING, CLOSED }

    private final Engine engine;
    private final String nodeName;
    private final SerialExecutor serial;
    private final RefusalLog refusals;
    private ChannelHandlerContext ctx;
    private State state = State.HELLO;
    private String consumer = "?";
    private boolean joining;
    private ChangeStream stream;
    private SnapshotExport export;
    private int credit;
    private int batchRecords;
    private long batchBytes;
    private boolean following;
    private boolean notified;
    private int mutualPort;
    private AutoCloseable commitListener;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    private final java.time.Duration helloTimeout;
    private final java.util.function.Consumer<MutualRequest> mutual;
    private final SessionLog sessions;

    /** A consumer with a mutual-pull agreement asks to be pulled from too. */
    record MutualRequest(String consumer, java.net.InetSocketAddress address, java.security.cert.X509Certificate certificate) {
    }

    SupplierSession(Engine engine, String nodeName, Executor pool, RefusalLog refusals, java.time.Duration helloTimeout,
                    java.util.function.Consumer<MutualRequest> mutual, SessionLog sessions) {
        this.mutual = mutual;
        this.sessions = sessions;
        this.engine = engine;
        this.nodeName = nodeName;
        this.serial = new SerialExecutor(pool);
        this.refusals = refusals;
        this.helloTimeout = helloTimeout;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        // A peer that connects and never says Hello is refused once the handshake time is up.
        ctx.executor().schedule(() -> serial.execute(() -> {
            if (state == State.HELLO) {
                refuse(SessionMessages.Error.Code.UNEXPECTED_MESSAGE, "no Hello within " + helloTimeout.toMillis() + " ms of connecting");
            }
        }), helloTimeout.toMillis() * 2, java.util.concurrent.TimeUnit.MILLISECONDS);
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
        serial.execute(() -> handle(frame));
    }

    private void handle(Frame f) {
        if (state == State.CLOSED) {
            return;
        }
        try {
            switch (f.getBodyCase()) {
                case HELLO -> hello(f.getHello());
                case PULL -> pull(f.getPull());
                case REFRESH -> refresh(f.getRefresh());
                case CREDIT -> {
                    credit += f.getCredit().getBatches();
                    pump();
                }
                case ERROR -> {
                    LOG.log(System.Logger.Level.WARNING, "consumer '" + consumer + "' ended the session: " + f.getError().getCode() + ": " + f.getError().getMessage());
                    close();
                }
                default -> refuse(SessionMessages.Error.Code.UNEXPECTED_MESSAGE, "a supplier does not expect " + f.getBodyCase() + " from a consumer");
            }
        } catch (FrameException e) {
            refuse(e.code(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "serving consumer '" + consumer + "' failed: " + e, e);
            refuse(SessionMessages.Error.Code.INTERNAL, "the supplier failed: " + e.getMessage());
        }
    }

    private void hello(SessionMessages.Hello h) {
        if (state != State.HELLO) {
            refuse(SessionMessages.Error.Code.UNEXPECTED_MESSAGE, "a second Hello");
            return;
        }
        consumer = h.getNodeName();
        if (h.getProtocolVersion() != ProtocolVersion.CURRENT) {
            refuse(SessionMessages.Error.Code.PROTOCOL_VERSION, "consumer '" + consumer + "' speaks protocol version " + h.getProtocolVersion()
                    + " but supplier '" + nodeName + "' speaks version " + ProtocolVersion.CURRENT + ": run the same Entente version on both");
            return;
        }
        joining = h.getJoining();
        if (engine.refreshRequired().isPresent()) {
            // Checked before the domain: a joining node has no domain yet.
            send(Frames.error(SessionMessages.Error.Code.NOT_SERVING, "supplier '" + nodeName + "' must be refreshed itself and supplies nobody: "
                    + engine.refreshRequired().get()));
            ctx.close();
            close();
            return;
        }
        java.util.UUID domain = Frames.uuid(h.getDomainId());
        if (!joining && !engine.domainId().equals(domain)) {
            refuse(SessionMessages.Error.Code.DOMAIN_MISMATCH, "consumer '" + consumer + "' is in domain " + domain + " but supplier '" + nodeName
                    + "' is in domain " + engine.domainId() + ": nodes of different domains never replicate; join this domain by refreshing");
            return;
        }
        state = State.READY;
        send(Frames.hello(nodeName, engine.originId(), engine.domainId(), false));
        LOG.log(System.Logger.Level.INFO, "consumer '" + consumer + "' connected" + (joining ? " to join the domain" : ""));
        sessions.record(consumer, "serve", String.valueOf(ctx.channel().remoteAddress()), joining ? "ok: joining" : "ok");
        mutualPort = h.getMutualPort();
        if (!joining) {
            requestMutual();
        }
    }

    /** Asks the node to pull back from a mutual-pull consumer, once it is a member of the domain. */
    private void requestMutual() {
        if (mutualPort > 0) {
            try {
                java.security.cert.Certificate[] peer = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class).engine().getSession().getPeerCertificates();
                java.net.InetSocketAddress remote = (java.net.InetSocketAddress) ctx.channel().remoteAddress();
                mutual.accept(new MutualRequest(consumer, new java.net.InetSocketAddress(remote.getAddress(), mutualPort),
                        (java.security.cert.X509Certificate) peer[0]));
            } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                LOG.log(System.Logger.Level.WARNING, "consumer '" + consumer + "' asked for mutual pull but presented no certificate", e);
            }
        }
    }

    private void pull(SessionMessages.PullRequest p) {
        if (state != State.READY) {
            refuse(SessionMessages.Error.Code.UNEXPECTED_MESSAGE, "a pull request while " + state);
            return;
        }
        if (joining) {
            send(Frames.error(SessionMessages.Error.Code.REFRESH_REQUIRED, "a node joining the domain must refresh first"));
            return;
        }
        try {
            stream = engine.supplyChanges(Frames.ruv(p.getRuv()), consumer);
        } catch (SupplierLaggingException e) {
            send(Frames.error(SessionMessages.Error.Code.SUPPLIER_LAGGING, e.getMessage()));
            LOG.log(System.Logger.Level.WARNING, "supplier '" + nodeName + "' is stale: " + e.getMessage());
            return;
        } catch (RefreshRequiredException e) {
            boolean mine = engine.refreshRequired().isPresent();
            send(Frames.error(mine ? SessionMessages.Error.Code.NOT_SERVING : SessionMessages.Error.Code.REFRESH_REQUIRED, e.getMessage()));
            LOG.log(System.Logger.Level.WARNING, "refused consumer '" + consumer + "': " + e.getMessage());
            return;
        }
        state = State.STREAMING;
        credit = Math.max(1, p.getCredit());
        batchRecords = Math.max(1, p.getMaxBatchRecords());
        batchBytes = Math.max(1, p.getMaxBatchBytes());
        following = p.getFollow();
        notified = false;
        pump();
    }

    private void refresh(SessionMessages.RefreshRequest r) {
        if (state != State.READY) {
            refuse(SessionMessages.Error.Code.UNEXPECTED_MESSAGE, "a refresh request while " + state);
            return;
        }
        try {
            export = engine.exportSnapshot(consumer);
        } catch (RefreshRequiredException e) {
            send(Frames.error(SessionMessages.Error.Code.NOT_SERVING, e.getMessage()));
            return;
        }
        LOG.log(System.Logger.Level.INFO, "refreshing consumer '" + consumer + "'");
        state = State.REFRESHING;
        credit = Math.max(1, r.getCredit());
        batchBytes = Math.max(64 << 10, r.getMaxChunkBytes());
        pump();
    }

    /** Sends while there is credit and something to send. */
    private void pump() {
        while (credit > 0 && (state == State.STREAMING || state == State.REFRESHING)) {
            if (state == State.STREAMING) {
                ChangeBatch b = stream.next(batchRecords, batchBytes);
                if (b == null) {
                    Ruv sent = stream.supplierRuv();
                    send(Frames.end(sent));
                    stream.close();
                    stream = null;
                    state = State.READY;
                    if (following && commitListener == null) {
                        commitListener = engine.addCommitListener(() -> serial.execute(this::notifyChanges));
                    }
                    // Commits made while this stream ran were not announced (only an idle session
                    // is notified): announce them now, or the consumer would wait for its interval.
                    if (!sent.covers(engine.ruv())) {
                        notifyChanges();
                    }
                    return;
                }
                send(Frame.newBuilder().setBatch(SessionMessages.Batch.newBuilder().addAllRecords(b.records())).build());
            } else {
                ByteString chunk = export.nextChunk(batchBytes);
                if (chunk == null) {
                    send(Frames.end(export.ruv()));
                    export.close();
                    export = null;
                    state = State.READY;
                    sessions.record(consumer, "supply-refresh", String.valueOf(ctx.channel().remoteAddress()), "ok");
                    // Refreshed, the consumer is now a member of this domain.
                    if (joining) {
                        joining = false;
                        requestMutual();
                    }
                    return;
                }
                send(Frame.newBuilder().setChunk(SessionMessages.RefreshChunk.newBuilder().setChunk(chunk)).build());
            }
            credit--;
        }
    }

    private void notifyChanges() {
        if (state == State.READY && following && !notified) {
            notified = true;
            send(Frames.available());
        }
    }

    private void send(Frame f) {
        ctx.writeAndFlush(f, ctx.voidPromise());
    }

    private void refuse(SessionMessages.Error.Code code, String message) {
        refusals.refused(consumer, code, message);
        sessions.record(consumer, "serve", String.valueOf(ctx.channel().remoteAddress()), "refused: " + code + ": " + message);
        LOG.log(System.Logger.Level.WARNING, "refused consumer '" + consumer + "': " + code + ": " + message);
        if (ctx.channel().isActive()) {
            ctx.writeAndFlush(Frames.error(code, message)).addListener(ChannelFutureListener.CLOSE);
        }
        close();
    }

    /** Completes once the session is closed and its commit listener removed. */
    CompletableFuture<Void> closed() {
        return closed;
    }

    /**
     * Closes the connection and the session, for a node that stops. It does not wait for the
     * connection's inactive event: when the event loops shut down, that event is not always
     * delivered, and a session left open keeps its commit listener on the engine, which outlives
     * the node.
     */
    CompletableFuture<Void> stop() {
        serial.execute(() -> {
            if (ctx != null) {
                ctx.close();
            }
            close();
        });
        return closed;
    }

    private void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (stream != null) {
            stream.close();
            stream = null;
        }
        if (export != null) {
            export.close();
            export = null;
        }
        if (commitListener != null) {
            try {
                commitListener.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "removing a commit listener failed: " + e, e);
            }
            commitListener = null;
        }
        closed.complete(null);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent hs && !hs.isSuccess()
                && !(hs.cause() instanceof java.nio.channels.ClosedChannelException)) {
            // A failed or timed-out handshake closes the connection without an exception event.
            String reason = TransportErrors.describe(hs.cause());
            refusals.refused(String.valueOf(ctx.channel().remoteAddress()), SessionMessages.Error.Code.NOT_AUTHORIZED, reason);
            LOG.log(System.Logger.Level.WARNING, "connection from " + ctx.channel().remoteAddress() + " refused: " + reason);
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        serial.execute(this::close);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof FrameException fe) {
            serial.execute(() -> refuse(fe.code(), "from consumer '" + consumer + "': " + fe.getMessage()));
        } else {
            String reason = TransportErrors.describe(c);
            refusals.refused(consumer, SessionMessages.Error.Code.NOT_AUTHORIZED, reason);
            LOG.log(System.Logger.Level.WARNING, "connection from a consumer refused or lost: " + reason);
            ctx.close();
            serial.execute(this::close);
        }
    }
}
