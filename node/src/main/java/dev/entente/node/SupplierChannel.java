package dev.entente.node;

import dev.entente.engine.Engine;
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
import java.util.function.Consumer;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Carries one consumer's connection to its {@link SupplierSession}: frames and connection events
 * in, on the session's serial executor (engine calls block on RocksDB, so never on a network
 * thread); frames out on the channel. It decides nothing about the session.
 */
final class SupplierChannel extends SimpleChannelInboundHandler<Frame> {
    private static final System.Logger LOG = System.getLogger(SupplierChannel.class.getName());

    /** A consumer with a mutual-pull agreement asks to be pulled from too. */
    record MutualRequest(String consumer, InetSocketAddress address, X509Certificate certificate) {
    }

    private final Engine engine;
    private final String nodeName;
    private final SerialExecutor serial;
    private final EventLoopGroup timers;
    private final SessionOptions options;
    private final RefusalLog refusals;
    private final SessionLog sessions;
    private final Consumer<MutualRequest> mutual;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    /** Set when the handler joins the pipeline, on the event loop; read on the session's executor. */
    private volatile SupplierSession session;

    SupplierChannel(Engine engine, String nodeName, Executor pool, EventLoopGroup timers, SessionOptions options, RefusalLog refusals,
                    Consumer<MutualRequest> mutual, SessionLog sessions) {
        this.engine = engine;
        this.nodeName = nodeName;
        this.serial = new SerialExecutor(pool);
        this.timers = timers;
        this.options = options;
        this.refusals = refusals;
        this.mutual = mutual;
        this.sessions = sessions;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        session = new SupplierSession(engine, nodeName, String.valueOf(ctx.channel().remoteAddress()), new ChannelLink(ctx.channel()),
                new NettyScheduler(timers, serial), options, new NodeSessionEvents(refusals, sessions) {
                    @Override
                    public void mutualPullRequested(String consumer, int port) {
                        requestMutual(ctx, consumer, port);
                    }
                });
    }

    private void requestMutual(ChannelHandlerContext ctx, String consumer, int port) {
        try {
            java.security.cert.Certificate[] peer = ctx.pipeline().get(SslHandler.class).engine().getSession().getPeerCertificates();
            InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
            mutual.accept(new MutualRequest(consumer, new InetSocketAddress(remote.getAddress(), port), (X509Certificate) peer[0]));
        } catch (SSLPeerUnverifiedException e) {
            LOG.log(System.Logger.Level.WARNING, "consumer '" + consumer + "' asked for mutual pull but presented no certificate", e);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        serial.execute(session::start);
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
        serial.execute(() -> session.receive(frame));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        serial.execute(this::sessionClosed);
    }

    private void sessionClosed() {
        session.closed();
        closed.complete(null);
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
            // A connection accepted as the server closes may not have its handler yet.
            SupplierSession s = session;
            if (s != null) {
                s.stop();
            }
            closed.complete(null);
        });
        return closed;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent hs && !hs.isSuccess() && !(hs.cause() instanceof ClosedChannelException)) {
            // A failed or timed-out handshake closes the connection without an exception event.
            String reason = TransportErrors.describe(hs.cause());
            refusals.refused(String.valueOf(ctx.channel().remoteAddress()), SessionMessages.Error.Code.NOT_AUTHORIZED, reason);
            LOG.log(System.Logger.Level.WARNING, "connection from " + ctx.channel().remoteAddress() + " refused: " + reason);
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof FrameException fe) {
            serial.execute(() -> session.malformed(fe.code(), fe.getMessage()));
        } else {
            String reason = TransportErrors.describe(c);
            refusals.refused(String.valueOf(ctx.channel().remoteAddress()), SessionMessages.Error.Code.NOT_AUTHORIZED, reason);
            LOG.log(System.Logger.Level.WARNING, "connection from a consumer refused or lost: " + reason);
            ctx.close();
            serial.execute(this::sessionClosed);
        }
    }
}
