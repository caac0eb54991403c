package dev.entente.node;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The node's HTTP server on the admin address: {@code /_status/check} and {@code /metrics} for
 * load balancers and scrapers, and the {@code /v1} data and admin API behind a bearer token.
 * Request bodies are limited to 1 MiB.
 */
final class AdminServer implements AutoCloseable {
    static final int MAX_BODY = 1 << 20;
    private final Channel channel;

    AdminServer(InetSocketAddress listen, String token, AdminApi api, Supplier<String> health, Supplier<String> metrics,
                EventLoopGroup boss, EventLoopGroup workers, ExecutorService pool) {
        byte[] expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec()).addLast(new HttpObjectAggregator(MAX_BODY))
                                .addLast(new Handler(expected, api, health, metrics, pool));
                    }
                });
        try {
            channel = b.bind(listen).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding " + listen, e);
        } catch (Exception e) {
            // Netty's bind throws the checked BindException undeclared (see ReplicationServer).
            throw new IllegalStateException("cannot serve the admin API on " + listen + " (admin.listen): " + e.getMessage()
                    + ". Another process may use the port: stop it, or set another port", e);
        }
    }

    InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final byte[] expected;
        private final AdminApi api;
        private final Supplier<String> health;
        private final Supplier<String> metrics;
        private final ExecutorService pool;

        Handler(byte[] expected, AdminApi api, Supplier<String> health, Supplier<String> metrics, ExecutorService pool) {
            this.expected = expected;
            this.api = api;
            this.health = health;
            this.metrics = metrics;
            this.pool = pool;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String method = req.method().name();
            QueryStringDecoder q = new QueryStringDecoder(req.uri());
            String path = q.path();
            String body = req.content().toString(StandardCharsets.UTF_8);
            String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            String who = String.valueOf(ctx.channel().remoteAddress());
            pool.execute(() -> {
                AdminApi.Response r;
                if (path.equals("/_status/check")) {
                    String problem = health.get();
                    r = problem == null ? new AdminApi.Response(200, "ok\n", "text/plain") : new AdminApi.Response(503, problem + "\n", "text/plain");
                } else if (path.equals("/metrics")) {
                    r = new AdminApi.Response(200, metrics.get(), "text/plain; version=0.0.4");
                } else if (path.startsWith("/v1/") || path.equals("/v1")) {
                    if (auth == null) {
                        r = api.error(new AdminApi.ApiError(401, "unauthorized", "send Authorization: Bearer <token> (the token is in the node's admin.tokenFile)"));
                    } else if (!MessageDigest.isEqual(expected, auth.getBytes(StandardCharsets.UTF_8))) {
                        r = api.error(new AdminApi.ApiError(403, "forbidden", "the bearer token is not this node's"));
                    } else {
                        r = api.handle(method, path, q.parameters(), body, who);
                    }
                } else {
                    r = api.error(new AdminApi.ApiError(404, "not_found", "no such endpoint: " + path + " (see docs/operations.md)"));
                }
                respond(ctx, r, keepAlive);
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof io.netty.handler.codec.TooLongFrameException) {
                respond(ctx, new AdminApi.Response(413, "{\"error\":\"too_large\",\"detail\":\"request bodies are limited to " + MAX_BODY + " bytes\"}\n",
                        "application/json"), false);
            } else {
                ctx.close();
            }
        }

        private static void respond(ChannelHandlerContext ctx, AdminApi.Response r, boolean keepAlive) {
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(r.status()),
                    Unpooled.copiedBuffer(r.body(), StandardCharsets.UTF_8));
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType() + "; charset=utf-8");
            HttpUtil.setContentLength(res, res.content().readableBytes());
            HttpUtil.setKeepAlive(res, keepAlive);
            var f = ctx.writeAndFlush(res);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
