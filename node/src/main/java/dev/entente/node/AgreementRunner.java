package dev.entente.node;

import dev.entente.engine.Engine;
import dev.entente.engine.session.AgreementSettings;
import dev.entente.engine.session.AgreementStatus;
import dev.entente.engine.session.ConsumerAgreement;
import dev.entente.engine.session.ConsumerSession;
import dev.entente.engine.session.SyncResult;
import dev.entente.protocol.FrameException;
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
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Carries one agreement's {@link ConsumerAgreement} over TLS: opens the connections it asks for,
 * and hands it each connection's events and frames on its serial executor. Batches are decoded
 * on the network thread while the previous one commits. It decides nothing about the session.
 */
final class AgreementRunner implements AutoCloseable {
    private final Agreement agreement;
    private final Engine engine;
    private final SslContext tls;
    private final EventLoopGroup group;
    private final SerialExecutor serial;
    private final TransportOptions options;
    private final ConsumerAgreement consumer;

    AgreementRunner(Agreement agreement, Engine engine, String nodeName, SslContext tls, EventLoopGroup group, Executor pool,
                    TransportOptions options, RefusalLog refusals, int localPort, SessionLog sessions) {
        this.agreement = agreement;
        this.engine = engine;
        this.tls = tls;
        this.group = group;
        this.serial = new SerialExecutor(pool);
        this.options = options;
        String pinned = NodeIdentity.nameOf(agreement.supplierCertificate());
        AgreementSettings settings = new AgreementSettings(agreement.name(), agreement.supplier().toString(), agreement.interval(),
                agreement.automaticRefresh(), agreement.mode() == Agreement.Mode.MUTUAL_PULL ? localPort : 0,
                dev.entente.protocol.PeerText.isNodeName(pinned) ? pinned : null);
        this.consumer = new ConsumerAgreement(settings, engine, nodeName, options.session(), new NettyScheduler(group, serial),
                new SecureRandom(), this::connect,
                new NodeSessionEvents(refusals, sessions, NodeIdentity.publicKeyFingerprint(agreement.supplierCertificate())));
    }

    void start() {
        serial.execute(consumer::start);
    }

    /** Pulls now (or as soon as the agreement is connected) and completes when that pull ends or fails. */
    CompletableFuture<SyncResult> sync() {
        CompletableFuture<SyncResult> f = new CompletableFuture<>();
        serial.execute(() -> consumer.sync(f));
        return f;
    }

    /** Why the agreement's last session failed, with its code; null when none has. */
    ConsumerAgreement.Failure lastFailure() {
        return consumer.lastFailure();
    }

    /**
     * Refreshes this node from this agreement's supplier as soon as it can, marking it for
     * {@code reason} unless it is marked; completes when refreshed or when an attempt failed.
     */
    CompletableFuture<AgreementStatus> refreshNow(String reason) {
        CompletableFuture<AgreementStatus> f = new CompletableFuture<>();
        serial.execute(() -> consumer.refreshNow(reason, f));
        return f;
    }

    /** Pulls now if the agreement is idle. */
    void pullNow() {
        serial.execute(consumer::pullNow);
    }

    String name() {
        return agreement.name();
    }

    InetSocketAddress supplierAddress() {
        return agreement.supplier();
    }

    AgreementStatus status() {
        return consumer.status();
    }

    private void connect(long attempt) {
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) options.handshakeTimeout().toMillis())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SslHandler ssl = tls.newHandler(ch.alloc(), agreement.supplier().getHostString(), agreement.supplier().getPort());
                        ssl.setHandshakeTimeoutMillis(options.handshakeTimeout().toMillis());
                        ch.pipeline().addLast("tls", ssl)
                                .addLast("frames-in", new FrameDecoder(options.maxFrameBytes(), options.session().silenceTimeout()))
                                .addLast("frames-out", new FrameEncoder(options.maxFrameBytes()))
                                .addLast("session", new Handler(ssl, attempt));
                    }
                });
        b.connect(agreement.supplier()).addListener(f -> {
            if (!f.isSuccess()) {
                serial.execute(() -> consumer.connectFailed(attempt, SessionMessages.Error.Code.CODE_UNSPECIFIED,
                        "cannot connect to supplier " + agreement.supplier() + ": " + f.cause().getMessage()));
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
                if (f.isSuccess()) {
                    consumer.connected(attempt, new ChannelLink(ch));
                } else {
                    consumer.transportFailed(attempt, SessionMessages.Error.Code.NOT_AUTHORIZED, TransportErrors.describe(f.cause()));
                    ch.close();
                }
            }));
            super.channelActive(ctx);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
            if (frame.getBodyCase() == Frame.BodyCase.BATCH) {
                // Decode on the network thread while the previous batch commits on the session's.
                ConsumerSession.Prepared p = ConsumerSession.prepare(engine, frame.getBatch(), agreement.name());
                serial.execute(() -> consumer.receive(attempt, p));
                return;
            }
            serial.execute(() -> consumer.receive(attempt, frame));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            serial.execute(() -> consumer.disconnected(attempt));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            if (c instanceof FrameException fe) {
                serial.execute(() -> consumer.malformed(attempt, fe.code(), fe.getMessage()));
            } else {
                serial.execute(() -> consumer.transportFailed(attempt, SessionMessages.Error.Code.NOT_AUTHORIZED, TransportErrors.describe(c)));
                ctx.close();
            }
        }
    }

    @Override
    public void close() {
        CountDownLatch done = new CountDownLatch(1);
        serial.execute(() -> {
            consumer.stop();
            done.countDown();
        });
        try {
            done.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
