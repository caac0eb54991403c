package dev.entente.node;

import dev.entente.config.NodeConfig;
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
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The node's HTTP server on the admin address: {@code /_status/check} and {@code /metrics} for
 * load balancers and scrapers, and the {@code /v1} data and admin API behind a bearer token.
 * Bounded: request bodies to 1 MiB; connections to {@code maxConnections}, each closed after
 * {@code idleTimeout} with no request in progress; requests waiting for a worker to
 * {@link #MAX_WAITING} (then 503); long operations (sync, refresh, backup) run on threads of their
 * own, at most {@link #MAX_LONG} at once, so that they never hold the workers; health and metrics
 * are answered on the network thread, behind nothing. Each connection's responses come in the
 * order of its requests. The change feed's long polls wait without a thread (at most
 * {@link #MAX_PARKED}), woken by the next commit or their time; its event streams (at most
 * {@link #MAX_STREAMS}) read the feed only while their connection can take more, so a slow
 * reader costs the node a cursor, not a buffer.
 */
final class AdminServer implements AutoCloseable {
    static final int MAX_BODY = 1 << 20;
    /** Requests waiting for a worker, over all connections, beyond which the server answers 503. */
    static final int MAX_WAITING = 64;
    /** Long operations at once. */
    static final int MAX_LONG = 4;
    /** Requests one connection may have pipelined and not yet answered; beyond, it is closed. */
    static final int MAX_PIPELINED = 16;
    /** Long polls of the change feed waiting for a commit at once. */
    static final int MAX_PARKED = 256;
    /** Change feed event streams open at once. */
    static final int MAX_STREAMS = 32;
    /** Events one read of the feed sends a stream. */
    static final int STREAM_PAGE = 200;
    /** About the most text one read of the feed writes to a stream before it waits for the connection. */
    static final int STREAM_CHUNK_CHARS = 1 << 20;
    /** A comment line on a quiet stream this often, so that proxies and the idle timeout keep it. */
    static final long HEARTBEAT_SECONDS = 15;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AdminServer.class);
    /** The API's OpenAPI description, with this build's version. */
    static final String OPENAPI = resource("openapi.json").replace("@VERSION@", Cli.Version.version());
    /** The replication monitor page: it holds no data, and reads the API with the token its user gives. */
    static final String MONITOR = resource("monitor.html");
    /** The page's one inline script, by its hash: the only script the page may run. */
    static final String MONITOR_SCRIPT_HASH = scriptHash(MONITOR);

    private static String scriptHash(String html) {
        int start = html.indexOf("<script>") + "<script>".length();
        int end = html.indexOf("</script>", start);
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(html.substring(start, end).getBytes(StandardCharsets.UTF_8));
            return "sha256-" + java.util.Base64.getEncoder().encodeToString(d);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }
    private final Channel channel;
    private final Set<Channel> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicInteger longRunning = new AtomicInteger();
    private final Set<Handler> parked = ConcurrentHashMap.newKeySet();
    /** Commits seen: a long poll that read nothing parks only if no commit came since it read. */
    private final java.util.concurrent.atomic.AtomicLong commitCount = new java.util.concurrent.atomic.AtomicLong();
    private final Set<Handler> streams = ConcurrentHashMap.newKeySet();
    private final AutoCloseable commits;

    AdminServer(InetSocketAddress listen, String token, NodeConfig.AdminLimits limits, AdminApi api, Supplier<String> health,
                Supplier<String> metrics, EventLoopGroup boss, EventLoopGroup workers, ExecutorService pool, ExecutorService longPool) {
        byte[] expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        this.commits = api.onCommit(this::committed);
        ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                .handler(new AcceptGate("admin server", limits.maxConnections()))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        // The AcceptGate keeps them within admin.maxConnections.
                        open.add(ch);
                        ch.closeFuture().addListener(f -> open.remove(ch));
                        ch.pipeline().addLast(new IdleStateHandler(0, 0, limits.idleTimeout().toMillis(), TimeUnit.MILLISECONDS))
                                .addLast(new HttpServerCodec()).addLast(new Aggregator())
                                .addLast(new Handler(expected, api, health, metrics, pool, longPool));
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

    private static String resource(String name) {
        try (java.io.InputStream in = AdminServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the node's jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot read " + name + " from the node's jar: " + e.getMessage(), e);
        }
    }

    InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Connections open now. */
    int connections() {
        return open.size();
    }

    /** After every commit: wake the long polls, feed the streams (each on its connection's event loop). */
    private void committed() {
        commitCount.incrementAndGet();
        for (Handler h : parked) {
            h.ctx.executor().execute(h::unpark);
        }
        for (Handler h : streams) {
            h.ctx.executor().execute(h::pump);
        }
    }

    @Override
    public void close() {
        try {
            commits.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop listening to commits: " + e.getMessage(), e);
        }
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        open.forEach(Channel::close);
    }

    /** Answers a body over the limit with the API's JSON error, not an empty 413. */
    private static final class Aggregator extends HttpObjectAggregator {
        Aggregator() {
            super(MAX_BODY);
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            // As Netty's own: the connection stays open (the rest of the body is discarded) when
            // the client keeps it alive, so that it reads this answer instead of a reset.
            boolean keepAlive = !(oversized instanceof io.netty.handler.codec.http.FullHttpMessage)
                    && (HttpUtil.is100ContinueExpected(oversized) || HttpUtil.isKeepAlive(oversized));
            write(ctx, new AdminApi.Response(413, "{\"error\":\"too_large\",\"detail\":\"request bodies are limited to " + MAX_BODY + " bytes\"}\n",
                    "application/json"), keepAlive);
        }
    }

    private static void write(ChannelHandlerContext ctx, AdminApi.Response r, boolean keepAlive) {
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(r.status()),
                Unpooled.copiedBuffer(r.body(), StandardCharsets.UTF_8));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType() + "; charset=utf-8");
        if (r.contentType().equals("text/html")) {
            // The monitor page runs its own inline script and talks to this address alone.
            res.headers().set("Content-Security-Policy", "default-src 'none'; script-src '" + MONITOR_SCRIPT_HASH + "'; style-src 'unsafe-inline'; "
                    + "connect-src 'self'; frame-ancestors 'none'; form-action 'none'").set("X-Content-Type-Options", "nosniff");
        }
        HttpUtil.setContentLength(res, res.content().readableBytes());
        HttpUtil.setKeepAlive(res, keepAlive);
        var f = ctx.writeAndFlush(res);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** One connection: its requests are answered one at a time, in order. All state is on its event loop. */
    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final byte[] expected;
        private final AdminApi api;
        private final Supplier<String> health;
        private final Supplier<String> metrics;
        private final ExecutorService pool;
        private final ExecutorService longPool;
        private final ArrayDeque<FullHttpRequest> pending = new ArrayDeque<>();
        private boolean busy;
        private ChannelHandlerContext ctx;
        /** A parked long poll: what asks again, and when it stops waiting. */
        private Runnable parkedRetry;
        private io.netty.util.concurrent.ScheduledFuture<?> parkTimer;
        /** An event stream: the cursor it has sent up to, whether a read is running, and whether a commit came meanwhile. */
        private boolean streaming;
        private long streamCursor;
        private boolean pumping;
        private boolean dirty;
        private io.netty.util.concurrent.ScheduledFuture<?> heartbeat;

        Handler(byte[] expected, AdminApi api, Supplier<String> health, Supplier<String> metrics, ExecutorService pool, ExecutorService longPool) {
            super(false);
            this.expected = expected;
            this.api = api;
            this.health = health;
            this.metrics = metrics;
            this.pool = pool;
            this.longPool = longPool;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (pending.size() >= MAX_PIPELINED) {
                req.release();
                ctx.close();
                return;
            }
            pending.addLast(req);
            next(ctx);
        }

        private void next(ChannelHandlerContext ctx) {
            if (busy || pending.isEmpty()) {
                return;
            }
            busy = true;
            FullHttpRequest req = pending.removeFirst();
            String method = req.method().name();
            QueryStringDecoder q = new QueryStringDecoder(req.uri());
            String path;
            try {
                path = q.path();
                q.parameters();
            } catch (IllegalArgumentException badEscape) {
                boolean keepAlive = HttpUtil.isKeepAlive(req);
                req.release();
                done(ctx, api.error(new AdminApi.ApiError(400, "bad_request", "the request's path or query is not validly %-encoded: "
                        + badEscape.getMessage())), keepAlive);
                return;
            }
            String body = req.content().toString(StandardCharsets.UTF_8);
            String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
            java.util.Map<String, java.util.List<String>> params = q.parameters();
            String lastEventId = req.headers().get("Last-Event-ID");
            if (lastEventId != null && path.equals("/v1/changes/stream") && !params.containsKey("cursor")) {
                // An event stream's client resumes from the last event it got.
                params = new java.util.HashMap<>(params);
                params.put("cursor", java.util.List.of(lastEventId.trim()));
            }
            java.util.Map<String, java.util.List<String>> query = params;
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            req.release();
            String who = String.valueOf(ctx.channel().remoteAddress());
            if (path.equals("/_status/check") || path.equals("/metrics") || path.equals("/v1/openapi.json") || path.equals("/")) {
                if (!method.equals("GET") && !method.equals("HEAD")) {
                    done(ctx, api.error(new AdminApi.ApiError(405, "method_not_allowed", method + " is not allowed here; use GET")), keepAlive);
                    return;
                }
                // Cheap and never blocking on the store: answered here, behind no other request.
                done(ctx, guarded(() -> fast(path)), keepAlive);
                return;
            }
            boolean isLong = method.equals("POST") && (path.equals("/v1/replication/sync") || path.equals("/v1/replication/refresh")
                    || path.equals("/v1/backup") || path.equals("/v1/peers/agreements"));
            Runnable work = () -> {
                long seen = commitCount.get();
                AdminApi.Response r = guarded(() -> api(method, path, query, body, auth, who));
                ctx.executor().execute(() -> {
                    if (r.waitMillis() > 0) {
                        Poll poll = new Poll(method, path, query, body, auth, who, keepAlive, System.nanoTime() + r.waitMillis() * 1_000_000);
                        park(poll, seen);
                    } else if (r.status() == 200 && AdminApi.STREAM.equals(r.contentType())) {
                        startStream(Long.parseLong(r.body()));
                    } else {
                        done(ctx, r, keepAlive);
                    }
                });
            };
            if (isLong) {
                if (longRunning.incrementAndGet() > MAX_LONG) {
                    longRunning.decrementAndGet();
                    done(ctx, api.error(new AdminApi.ApiError(503, "busy", MAX_LONG + " long operations (sync, refresh, backup) are running;"
                            + " try again when one has finished")), keepAlive);
                    return;
                }
                submit(ctx, longPool, () -> {
                    try {
                        work.run();
                    } finally {
                        longRunning.decrementAndGet();
                    }
                }, keepAlive, longRunning);
            } else {
                if (waiting.incrementAndGet() > MAX_WAITING) {
                    waiting.decrementAndGet();
                    done(ctx, api.error(new AdminApi.ApiError(503, "busy", MAX_WAITING + " requests are waiting already; try again shortly")),
                            keepAlive);
                    return;
                }
                submit(ctx, pool, () -> {
                    waiting.decrementAndGet();
                    work.run();
                }, keepAlive, waiting);
            }
        }

        private void submit(ChannelHandlerContext ctx, ExecutorService on, Runnable task, boolean keepAlive, AtomicInteger counted) {
            try {
                on.execute(task);
            } catch (RejectedExecutionException e) {
                counted.decrementAndGet();
                done(ctx, api.error(new AdminApi.ApiError(503, "stopping", "the node is stopping")), false);
            }
        }

        private void done(ChannelHandlerContext ctx, AdminApi.Response r, boolean keepAlive) {
            write(ctx, r, keepAlive);
            busy = false;
            if (keepAlive) {
                next(ctx);
            }
        }

        private AdminApi.Response fast(String path) {
            if (path.equals("/v1/openapi.json")) {
                return new AdminApi.Response(200, OPENAPI, "application/json");
            }
            if (path.equals("/")) {
                return new AdminApi.Response(200, MONITOR, "text/html");
            }
            if (path.equals("/metrics")) {
                return new AdminApi.Response(200, metrics.get(), "text/plain; version=0.0.4");
            }
            String problem = health.get();
            return problem == null ? new AdminApi.Response(200, "ok\n", "text/plain") : new AdminApi.Response(503, problem + "\n", "text/plain");
        }

        /** A long poll: what it asks, and until when it may wait. */
        private final class Poll {
            private final String method;
            private final String path;
            private final java.util.Map<String, java.util.List<String>> query;
            private final String body;
            private final String auth;
            private final String who;
            private final boolean keepAlive;
            private final long deadlineNanos;

            Poll(String method, String path, java.util.Map<String, java.util.List<String>> query, String body, String auth, String who,
                 boolean keepAlive, long deadlineNanos) {
                this.method = method;
                this.path = path;
                this.query = query;
                this.body = body;
                this.auth = auth;
                this.who = who;
                this.keepAlive = keepAlive;
                this.deadlineNanos = deadlineNanos;
            }

            /** On a worker: asks again, waiting what time is left; answers, or parks again when still nothing came. */
            void ask() {
                long seen = commitCount.get();
                java.util.Map<String, java.util.List<String>> now = new java.util.HashMap<>(query);
                now.put("wait", java.util.List.of(Long.toString(Math.max(0, TimeUnit.NANOSECONDS.toSeconds(deadlineNanos - System.nanoTime())))));
                AdminApi.Response r = guarded(() -> api(method, path, now, body, auth, who));
                ctx.executor().execute(() -> {
                    if (r.waitMillis() > 0) {
                        park(this, seen);
                    } else {
                        done(ctx, r, keepAlive);
                    }
                });
            }
        }

        /**
         * Holds a long poll, with no thread, until a commit or its time; then it asks again. A
         * commit that came after the poll read and before it parked wakes it at once.
         */
        private void park(Poll poll, long seen) {
            if (!ctx.channel().isActive()) {
                busy = false;
                return;
            }
            if (parked.size() >= MAX_PARKED) {
                done(ctx, api.error(new AdminApi.ApiError(503, "busy", MAX_PARKED + " long polls are waiting already; poll without wait, or try again shortly")),
                        poll.keepAlive);
                return;
            }
            parkedRetry = () -> {
                waiting.incrementAndGet();
                submit(ctx, pool, () -> {
                    waiting.decrementAndGet();
                    poll.ask();
                }, poll.keepAlive, waiting);
            };
            parked.add(this);
            parkTimer = ctx.executor().schedule(this::unpark, Math.max(0, poll.deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (commitCount.get() != seen) {
                ctx.executor().execute(this::unpark);
            }
        }

        /** On the event loop: a parked long poll asks again, once. */
        void unpark() {
            if (!parked.remove(this)) {
                return;
            }
            parkTimer.cancel(false);
            Runnable r = parkedRetry;
            parkedRetry = null;
            if (ctx.channel().isActive()) {
                r.run();
            }
        }

        /** Answers with an event stream of the change feed from {@code cursor}; the connection is the stream's from now on. */
        private void startStream(long cursor) {
            if (!ctx.channel().isActive()) {
                // The client left while the first read ran: its place is not taken.
                busy = false;
                return;
            }
            if (streams.size() >= MAX_STREAMS) {
                done(ctx, api.error(new AdminApi.ApiError(503, "busy", MAX_STREAMS + " change streams are open already; poll /v1/changes instead")), false);
                return;
            }
            streams.add(this);
            streaming = true;
            streamCursor = cursor;
            io.netty.handler.codec.http.HttpResponse res = new io.netty.handler.codec.http.DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, AdminApi.STREAM + "; charset=utf-8").set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
            HttpUtil.setTransferEncodingChunked(res, true);
            ctx.writeAndFlush(res);
            heartbeat = ctx.executor().scheduleAtFixedRate(() -> {
                if (ctx.channel().isWritable()) {
                    chunk(": still here\n\n");
                }
            }, HEARTBEAT_SECONDS, HEARTBEAT_SECONDS, TimeUnit.SECONDS);
            pump();
        }

        private void chunk(String text) {
            ctx.writeAndFlush(new io.netty.handler.codec.http.DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
        }

        /**
         * On the event loop: sends the stream the events after its cursor, a page at a time, while
         * the connection can take them (reading resumes when it can again).
         */
        void pump() {
            if (!streaming) {
                return;
            }
            if (pumping || !ctx.channel().isWritable()) {
                dirty = true;
                return;
            }
            pumping = true;
            dirty = false;
            long from = streamCursor;
            try {
                pool.execute(() -> {
                    StringBuilder text = new StringBuilder();
                    long next = from;
                    boolean more = false;
                    boolean end = false;
                    try {
                        com.fasterxml.jackson.databind.JsonNode page = api.changes(from, STREAM_PAGE);
                        for (com.fasterxml.jackson.databind.JsonNode ev : page.get("events")) {
                            text.append("id: ").append(ev.get("sequence").asLong()).append("\nevent: change\ndata: ").append(api.json(ev)).append("\n\n");
                            next = ev.get("sequence").asLong();
                            if (text.length() >= STREAM_CHUNK_CHARS) {
                                // A page of large commits stops here: the rest when the connection takes more.
                                more = true;
                                break;
                            }
                        }
                        more |= page.get("events").size() == STREAM_PAGE;
                    } catch (RuntimeException e) {
                        // A cursor older than the trimmed feed (FeedGapException), or a store that
                        // failed: the client is told and the stream ends; it re-reads and resumes.
                        text.append("event: error\ndata: ").append(api.json(java.util.Map.of("detail", String.valueOf(e.getMessage())))).append("\n\n");
                        end = true;
                    }
                    long sent = next;
                    boolean again = more;
                    boolean last = end;
                    ctx.executor().execute(() -> pumped(text.toString(), sent, again, last));
                });
            } catch (RejectedExecutionException stopping) {
                ctx.close();
            }
        }

        private void pumped(String text, long cursor, boolean more, boolean end) {
            pumping = false;
            if (!streaming) {
                return;
            }
            if (!text.isEmpty()) {
                chunk(text);
            }
            if (end) {
                streaming = false;
                ctx.writeAndFlush(io.netty.handler.codec.http.LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            streamCursor = cursor;
            if (more || dirty) {
                pump();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
            if (ctx.channel().isWritable() && dirty) {
                pump();
            }
            super.channelWritabilityChanged(ctx);
        }

        private AdminApi.Response api(String method, String path, java.util.Map<String, java.util.List<String>> params, String body, String auth,
                                      String who) {
            if (path.startsWith("/v1/") || path.equals("/v1")) {
                if (auth == null) {
                    return api.refused(new AdminApi.ApiError(401, "unauthorized", "send Authorization: Bearer <token> (the token is in the node's admin.tokenFile)"),
                            method, path, who);
                } else if (!MessageDigest.isEqual(expected, auth.getBytes(StandardCharsets.UTF_8))) {
                    return api.refused(new AdminApi.ApiError(403, "forbidden", "the bearer token is not this node's"), method, path, who);
                }
                return api.handle(method, path, params, body, who);
            }
            return api.error(new AdminApi.ApiError(404, "not_found", "no such endpoint: " + path + " (see docs/operations.md)"));
        }

        /** Whatever fails answers 500 with a JSON body; the connection goes on. */
        private AdminApi.Response guarded(Supplier<AdminApi.Response> s) {
            try {
                return s.get();
            } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                LOG.error("an admin request failed: " + e, e);
                return api.error(new AdminApi.ApiError(500, "internal", "the request failed: " + e));
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof IdleStateEvent && !busy && pending.isEmpty()) {
                ctx.close();
                return;
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            pending.forEach(FullHttpRequest::release);
            pending.clear();
            if (parked.remove(this)) {
                parkTimer.cancel(false);
            }
            streaming = false;
            streams.remove(this);
            if (heartbeat != null) {
                heartbeat.cancel(false);
            }
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
