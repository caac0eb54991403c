package dev.entente.node;

import dev.entente.engine.Engine;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/** The supplier side of a node: a TLS 1.3 server that serves pinned consumers. */
final class ReplicationServer implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ReplicationServer.class);
    private final Channel channel;
    private final InetSocketAddress bound;
    private final Set<SupplierChannel> open = new HashSet<>();
    private boolean closing;

    ReplicationServer(Engine engine, String nodeName, SslContext tls, InetSocketAddress listen, EventLoopGroup boss,
                      EventLoopGroup workers, ExecutorService pool, TransportOptions options, RefusalLog refusals,
                      SupplierChannel.Peers peers, SessionLog sessions) {
        ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                .handler(new AcceptGate("replication server", options.maxSessions()))
                .option(ChannelOption.SO_BACKLOG, 128)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // Above credit's worth of batches unsent, a session stops sending (see Link.writable):
                // a consumer that grants credit and does not read cannot make this node buffer more.
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new io.netty.channel.WriteBufferWaterMark((int) options.batchBytes(),
                        (int) Math.min(Integer.MAX_VALUE, (options.credit() + 1L) * options.batchBytes() + (1 << 20))))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SupplierChannel session = new SupplierChannel(engine, nodeName, pool, workers, options.session(), refusals, peers, sessions);
                        synchronized (open) {
                            if (closing) {
                                ch.close();
                                return;
                            }
                            // The AcceptGate keeps connections within maxSessions, authenticated or
                            // not; an unauthenticated one lasts at most the handshake time.
                            open.add(session);
                        }
                        SslHandler ssl = tls.newHandler(ch.alloc());
                        ssl.setHandshakeTimeoutMillis(options.handshakeTimeout().toMillis());
                        session.closed().whenComplete((v, e) -> {
                            synchronized (open) {
                                open.remove(session);
                            }
                        });
                        ch.pipeline().addLast("tls", ssl)
                                .addLast("frames-in", new FrameDecoder(options.maxFrameBytes(), options.session().silenceTimeout()))
                                .addLast("frames-out", new FrameEncoder(options.maxFrameBytes()))
                                .addLast("session", session);
                    }
                });
        try {
            this.channel = b.bind(listen).sync().channel();
            this.bound = (InetSocketAddress) channel.localAddress();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding " + listen, e);
        } catch (Exception e) {
            // Netty's bind throws the checked BindException undeclared: caught here, or it would
            // escape every caller's handler and leave the node's threads running.
            throw new IllegalStateException("cannot listen for replication on " + listen + " (replication.listen): " + e.getMessage()
                    + ". Another process may use the port: stop it, or set another port", e);
        }
        LOG.info("node '" + nodeName + "' serves replication on " + address());
    }

    InetSocketAddress address() {
        return bound;
    }

    /** Ends the connections of the consumer with this key (it was unpinned). */
    void closeSessionsOf(String keyHash) {
        List<SupplierChannel> of;
        synchronized (open) {
            of = open.stream().filter(s -> keyHash.equals(s.consumerKey())).toList();
        }
        of.forEach(SupplierChannel::close);
    }

    /** The largest send buffer of the open consumer connections, in bytes. */
    long largestSendBuffer() {
        synchronized (open) {
            return open.stream().mapToLong(SupplierChannel::pendingWriteBytes).max().orElse(0);
        }
    }

    /** Stops accepting, then closes every consumer's session while the node's threads still run. */
    @Override
    public void close() {
        List<SupplierChannel> sessions;
        synchronized (open) {
            closing = true;
            sessions = List.copyOf(open);
        }
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        CompletableFuture<?>[] stops = sessions.stream().map(SupplierChannel::stop).toArray(CompletableFuture<?>[]::new);
        CompletableFuture.allOf(stops).completeOnTimeout(null, 5, TimeUnit.SECONDS).join();
        long left = Arrays.stream(stops).filter(f -> !f.isDone()).count();
        if (left > 0) {
            LOG.warn(left + " of " + stops.length + " consumer sessions did not close within 5 s of stopping " + address());
        }
    }
}
