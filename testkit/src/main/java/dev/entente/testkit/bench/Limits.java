package dev.entente.testkit.bench;

import dev.entente.node.NodeIdentity;
import dev.entente.node.Tls;
import dev.entente.testkit.EngineBench;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The machine's raw limits, measured in the same run as the workloads so that every figure has a
 * ratio: RocksDB's write-batch rate for the bytes an entry costs, the TLS 1.3 loopback byte rate,
 * and the TLS loopback round trip (the floor under any replication lag), each with the same
 * provider, key type and pinning as the nodes.
 *
 * @param rocksDbEntriesPerSecond an entry's state and its changelog record, two column families, WAL on
 * @param tlsMegabytesPerSecond one TLS connection streaming 64 KiB writes
 * @param tlsRoundTripMillis median time for 64 bytes to go and come back over TLS
 * @param tlsProvider OpenSSL (BoringSSL) or JDK
 */
record Limits(double rocksDbEntriesPerSecond, double tlsMegabytesPerSecond, double tlsRoundTripMillis, String tlsProvider) {

    static Limits measure(Path dir, boolean quick) throws Exception {
        double raw = EngineBench.rawRocksDb(dir.resolve("raw"), quick ? 20_000 : 200_000);
        double tls = tlsStream(dir.resolve("tls"), quick ? 64L << 20 : 1L << 30);
        double rtt = tlsRoundTrip(dir.resolve("rtt"), quick ? 200 : 2000);
        return new Limits(raw, tls, rtt, Tls.provider() == io.netty.handler.ssl.SslProvider.OPENSSL ? "OpenSSL (BoringSSL)" : Tls.provider().toString());
    }

    private interface Handlers {
        ChannelInboundHandlerAdapter server();

        ChannelInboundHandlerAdapter client();
    }

    private record Link(EventLoopGroup group, Channel listener, Channel client) implements AutoCloseable {
        @Override
        public void close() throws InterruptedException {
            client.close().sync();
            listener.close().sync();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private static Link connect(Path dir, Handlers handlers) throws Exception {
        NodeIdentity server = NodeIdentity.create(dir.resolve("s"), "s", NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC());
        NodeIdentity client = NodeIdentity.create(dir.resolve("c"), "c", NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC());
        SslContext serverTls = Tls.server(server, List.of(client.certificate()));
        SslContext clientTls = Tls.client(client, List.of(server.certificate()));
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try {
            Channel listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true).childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(serverTls.newHandler(ch.alloc())).addLast(handlers.server());
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            SslHandler[] ssl = new SslHandler[1];
            Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            ssl[0] = clientTls.newHandler(c.alloc());
                            c.pipeline().addLast(ssl[0]).addLast(handlers.client());
                        }
                    }).connect(listener.localAddress()).sync().channel();
            ssl[0].handshakeFuture().sync();
            return new Link(group, listener, ch);
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** MB/s of one TLS 1.3 connection on loopback streaming {@code total} bytes. */
    static double tlsStream(Path dir, long total) throws Exception {
        AtomicLong received = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        try (Link link = connect(dir, new Handlers() {
            @Override
            public ChannelInboundHandlerAdapter server() {
                return new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf b = (ByteBuf) msg;
                        if (received.addAndGet(b.readableBytes()) >= total) {
                            done.countDown();
                        }
                        b.release();
                    }
                };
            }

            @Override
            public ChannelInboundHandlerAdapter client() {
                return new ChannelInboundHandlerAdapter();
            }
        })) {
            Channel ch = link.client();
            byte[] chunk = new byte[64 * 1024];
            long start = System.nanoTime();
            for (long sent = 0; sent < total; sent += chunk.length) {
                while (!ch.isWritable()) {
                    // park rather than spin: the event loops encrypting need both cores
                    java.util.concurrent.locks.LockSupport.parkNanos(20_000);
                }
                ch.writeAndFlush(ch.alloc().buffer(chunk.length).writeBytes(chunk), ch.voidPromise());
            }
            if (!done.await(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the TLS loopback transfer did not finish within 120 s");
            }
            return total / ((System.nanoTime() - start) / 1e9) / 1e6;
        }
    }

    /** Median milliseconds for 64 bytes to reach a TLS echo server on loopback and come back. */
    static double tlsRoundTrip(Path dir, int rounds) throws Exception {
        BlockingQueue<Integer> echoes = new LinkedBlockingQueue<>();
        try (Link link = connect(dir, new Handlers() {
            @Override
            public ChannelInboundHandlerAdapter server() {
                return new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ctx.writeAndFlush(msg);
                    }
                };
            }

            @Override
            public ChannelInboundHandlerAdapter client() {
                return new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf b = (ByteBuf) msg;
                        echoes.add(b.readableBytes());
                        b.release();
                    }
                };
            }
        })) {
            Channel ch = link.client();
            double[] millis = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                ch.writeAndFlush(ch.alloc().buffer(64).writeZero(64), ch.voidPromise());
                for (int got = 0; got < 64; ) {
                    Integer n = echoes.poll(10, TimeUnit.SECONDS);
                    if (n == null) {
                        throw new IllegalStateException("the TLS echo did not come back within 10 s");
                    }
                    got += n;
                }
                millis[r] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(millis);
            return millis[rounds / 2];
        }
    }
}
