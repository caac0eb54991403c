package dev.entente.node;

import dev.entente.engine.Engine;
import dev.entente.engine.session.Frames;
import dev.entente.engine.session.SessionOptions;
import dev.entente.engine.session.SupplierSession;
import dev.entente.protocol.FrameException;
import dev.entente.protocol.SessionMessages;
import dev.entente.protocol.SessionMessages.Frame;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Carries one consumer's connection to its {@link SupplierSession}: frames and connection events
 * in, on the session's serial executor (engine calls block on RocksDB, so never on a network
 * thread); frames out on the channel. The session starts once TLS has authenticated the
 * consumer's key, under the name that key is pinned with. It decides nothing about the session.
 */
final class SupplierChannel extends SimpleChannelInboundHandler<Frame> {
    /** The node's side of a supplier connection: who a key is, how many sessions it may hold, mutual pull. */
    interface Peers {
        /** The pin of an authenticated key; null if none (the trust manager let in only pinned keys). */
        ConsumerPin pinOf(X509Certificate presented);

        /** Whether the pin is still in force (it may be removed while its connection authenticates). */
        default boolean stillPinned(ConsumerPin pin) {
            return true;
        }

        /** Whether another session of {@code pin} fits its limit; if it does, it is counted until {@link #release}. */
        boolean admit(ConsumerPin pin);

        void release(ConsumerPin pin);

        /** A pinned consumer with a mutual-pull agreement asks this node to pull from it, at {@code port} of {@code host}. */
        void mutualPullRequested(ConsumerPin pin, InetSocketAddress address);
    }

    private final Engine engine;
    private final String nodeName;
    private final SerialExecutor serial;
    private final EventLoopGroup timers;
    private final SessionOptions options;
    private final RefusalLog refusals;
    private final SessionLog sessions;
    private final Peers peers;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    /** Set once the handshake authenticated a pinned key, on the event loop; read on the session's executor. */
    private volatile SupplierSession session;
    private ConsumerPin pin;
    private boolean reported;
    /** The connection, once authenticated: for the size of its send buffer. */
    private volatile io.netty.channel.Channel channel;

    SupplierChannel(Engine engine, String nodeName, Executor pool, EventLoopGroup timers, SessionOptions options, RefusalLog refusals,
                    Peers peers, SessionLog sessions) {
        this.engine = engine;
        this.nodeName = nodeName;
        this.serial = new SerialExecutor(pool);
        this.timers = timers;
        this.options = options;
        this.refusals = refusals;
        this.peers = peers;
        this.sessions = sessions;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent hs) {
            if (hs.isSuccess()) {
                authenticated(ctx);
            } else if (!(hs.cause() instanceof ClosedChannelException)) {
                // A failed or timed-out handshake closes the connection without an exception event.
                refuseUnauthenticated(ctx, TransportErrors.describe(hs.cause()));
            }
        }
        super.userEventTriggered(ctx, evt);
    }

    private void authenticated(ChannelHandlerContext ctx) {
        X509Certificate presented;
        try {
            presented = (X509Certificate) ctx.pipeline().get(SslHandler.class).engine().getSession().getPeerCertificates()[0];
        } catch (SSLPeerUnverifiedException e) {
            refuseUnauthenticated(ctx, "the consumer presented no certificate");
            return;
        }
        ConsumerPin p = peers.pinOf(presented);
        if (p == null) {
            refuseUnauthenticated(ctx, "the consumer's key (SHA-256 " + NodeIdentity.publicKeyFingerprint(presented) + ") is not pinned here");
            return;
        }
        // The audit log's target: where it connected from, and with which key.
        String address = ctx.channel().remoteAddress() + " key SHA-256 " + p.keyHash();
        if (!peers.admit(p)) {
            String reason = "consumer '" + p.name() + "' (key SHA-256 " + p.keyHash() + ") already holds the most sessions one consumer may hold";
            refusals.refused(p.name(), p.keyHash(), SessionMessages.Error.Code.NOT_AUTHORIZED, reason);
            ctx.writeAndFlush(Frames.error(SessionMessages.Error.Code.NOT_AUTHORIZED, reason)).addListener(f -> ctx.close());
            return;
        }
        synchronized (this) {
            pin = p;
        }
        channel = ctx.channel();
        if (!peers.stillPinned(p)) {
            // Unpinned while this connection authenticated: closeSessionsOf may have missed it.
            ctx.close();
            return;
        }
        session = new SupplierSession(engine, nodeName, address, p.name(), new ChannelLink(ctx.channel()), new NettyScheduler(timers, serial),
                options, new NodeSessionEvents(refusals, sessions, p.keyHash()) {
                    @Override
                    public void mutualPullRequested(String consumer, int port) {
                        InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
                        peers.mutualPullRequested(p, new InetSocketAddress(remote.getAddress(), port));
                    }
                });
        serial.execute(session::start);
    }

    /** One report and one log line per connection that never authenticated. */
    private void refuseUnauthenticated(ChannelHandlerContext ctx, String reason) {
        if (!reported) {
            reported = true;
            refusals.refusedUnauthenticated(ctx.channel().remoteAddress(), SessionMessages.Error.Code.NOT_AUTHORIZED, reason);
        }
        ctx.close();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
        SupplierSession s = session;
        if (s != null) {
            serial.execute(() -> s.receive(frame));
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        SupplierSession s = session;
        if (s != null && ctx.channel().isWritable()) {
            serial.execute(s::writable);
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        serial.execute(this::sessionClosed);
    }

    private void sessionClosed() {
        SupplierSession s = session;
        if (s != null) {
            s.closed();
        }
        release();
        closed.complete(null);
    }

    private synchronized void release() {
        if (pin != null) {
            peers.release(pin);
            pin = null;
        }
    }

    /** The SHA-256 of the authenticated consumer's key; null before it authenticated. */
    synchronized String consumerKey() {
        return pin == null ? null : pin.keyHash();
    }

    /** Ends the connection (its consumer was unpinned). */
    void close() {
        io.netty.channel.Channel ch = channel;
        if (ch != null) {
            ch.close();
        }
    }

    /** Bytes written to this connection and not yet taken by the socket (the send buffer), 0 before it authenticated. */
    long pendingWriteBytes() {
        io.netty.channel.Channel ch = channel;
        io.netty.channel.ChannelOutboundBuffer out = ch == null ? null : ch.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
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
            // A connection accepted as the server closes may not be authenticated yet.
            SupplierSession s = session;
            if (s != null) {
                s.stop();
            }
            release();
            closed.complete(null);
        });
        return closed;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        SupplierSession s = session;
        if (c instanceof FrameException fe && s != null) {
            serial.execute(() -> s.malformed(fe.code(), fe.getMessage()));
        } else if (s == null) {
            refuseUnauthenticated(ctx, TransportErrors.describe(c));
        } else {
            refusals.refused(s.consumer(), pin == null ? null : pin.keyHash(), SessionMessages.Error.Code.CODE_UNSPECIFIED,
                    "connection lost: " + TransportErrors.describe(c));
            ctx.close();
            serial.execute(this::sessionClosed);
        }
    }
}
