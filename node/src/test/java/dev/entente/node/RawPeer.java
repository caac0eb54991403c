package dev.entente.node;

import dev.entente.protocol.SessionMessages.Frame;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A hand-driven TLS client for tests: sends whatever frames or bytes it is told to. */
final class RawPeer implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    final BlockingQueue<Frame> received = new LinkedBlockingQueue<>();
    final CountDownLatch closed = new CountDownLatch(1);
    final Channel channel;
    final SslHandler ssl;

    RawPeer(SslContext tls, InetSocketAddress server) throws InterruptedException {
        SslHandler[] holder = new SslHandler[1];
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                holder[0] = tls.newHandler(ch.alloc());
                ch.pipeline().addLast(holder[0]).addLast(new FrameDecoder(16 << 20)).addLast(new FrameEncoder(1 << 30))
                        .addLast(new SimpleChannelInboundHandler<Frame>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, Frame msg) {
                                received.add(msg);
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                closed.countDown();
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close();
                            }
                        });
            }
        });
        channel = b.connect(server).sync().channel();
        ssl = holder[0];
        ssl.handshakeFuture().await(10, TimeUnit.SECONDS);
    }

    void send(Frame f) {
        channel.writeAndFlush(f).syncUninterruptibly();
    }

    /** Writes raw bytes below the frame encoder, through TLS. */
    void sendRaw(ByteBuf bytes) {
        channel.pipeline().context(FrameDecoder.class).writeAndFlush(bytes).syncUninterruptibly();
    }

    Frame next() throws InterruptedException {
        Frame f = received.poll(10, TimeUnit.SECONDS);
        if (f == null) {
            throw new AssertionError("no frame within 10 s");
        }
        return f;
    }

    boolean awaitClosed() throws InterruptedException {
        return closed.await(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
