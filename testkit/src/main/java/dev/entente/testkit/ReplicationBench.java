package dev.entente.testkit;

import dev.entente.engine.Attributes;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.FeedEvent;
import dev.entente.engine.Transaction;
import dev.entente.node.Agreement;
import dev.entente.node.NodeIdentity;
import dev.entente.node.ReplicationNode;
import dev.entente.node.Tls;
import dev.entente.node.TransportOptions;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The replication benchmark: real nodes over TLS 1.3 on loopback, each engine on its own RocksDB
 * directory, in this JVM. In one run it measures the limits (RocksDB's raw two-column-family
 * write rate, the TLS loopback byte rate with the same provider and certificates) and then:
 * one-way replication of identity-like entries to an empty consumer, the commit-to-visible lag at
 * a steady write rate, a refresh of a big database, and a 10-change incremental on it. Every run
 * checks its result before printing a figure.
 */
final class ReplicationBench {

    private ReplicationBench() {
    }

    static int run(String[] args) throws Exception {
        int entries = 100_000;
        int rate = 2000;
        int lagSeconds = 10;
        int big = 1_000_000;
        boolean json = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--entries" -> entries = Integer.parseInt(args[++i]);
                case "--rate" -> rate = Integer.parseInt(args[++i]);
                case "--lag-seconds" -> lagSeconds = Integer.parseInt(args[++i]);
                case "--big" -> big = Integer.parseInt(args[++i]);
                case "--json" -> json = true;
                default -> {
                    System.err.println("""
                            usage: bench-replication [--entries N] [--rate W] [--lag-seconds S] [--big M] [--json]
                              tls         TLS 1.3 loopback byte rate (same provider and certificates): a limit
                              raw         RocksDB raw two-column-family write rate: a limit
                              replicate   N entries (default 100,000) from a supplier to an empty consumer
                              lag         commit on A to visible on B, at W writes/s (default 2,000) for S s (default 10)
                              refresh     a new node refreshes M entries (default 1,000,000; 0 skips this and the next)
                              delta       10 new entries on A reach B, which holds M entries: median and p99 of 20 rounds""");
                    return args[i].equals("--help") ? 0 : 2;
                }
            }
        }
        Path root = Files.createTempDirectory("entente-bench-replication");
        List<String> lines = new ArrayList<>();
        try {
            double tls = tlsLoopback(root.resolve("tls"));
            double raw = EngineBench.rawRocksDb(root.resolve("raw"), Math.min(entries, 200_000));
            lines.add(line(json, "tls", "TLS 1.3 loopback (" + Tls.provider() + ")", String.format(Locale.ROOT, "%.0f MB/s", tls),
                    String.format(Locale.ROOT, "\"mb_per_second\":%.1f,\"provider\":\"%s\"", tls, Tls.provider())));
            lines.add(line(json, "raw", "RocksDB raw, entry + changelog record, 2 CFs", String.format(Locale.ROOT, "%.0f entries/s", raw),
                    String.format(Locale.ROOT, "\"entries_per_second\":%.0f", raw)));
            double[] rep = replicate(root.resolve("replicate"), entries);
            lines.add(line(json, "replicate", entries + " entries to an empty consumer",
                    String.format(Locale.ROOT, "%.0f entries/s, %.1f MB/s; %.0f%% of raw, %.1f%% of TLS", rep[0], rep[1], 100 * rep[0] / raw, 100 * rep[1] / tls),
                    String.format(Locale.ROOT, "\"entries\":%d,\"entries_per_second\":%.0f,\"mb_per_second\":%.1f,\"ratio_to_raw\":%.3f,\"ratio_to_tls\":%.4f",
                            entries, rep[0], rep[1], rep[0] / raw, rep[1] / tls)));
            long[] lag = lag(root.resolve("lag"), rate, lagSeconds);
            lines.add(line(json, "lag", rate + " writes/s for " + lagSeconds + " s, commit on A to visible on B",
                    String.format(Locale.ROOT, "p50 %d ms, p99 %d ms, max %d ms (%d changes)", lag[0], lag[1], lag[2], lag[3]),
                    String.format(Locale.ROOT, "\"rate\":%d,\"p50_ms\":%d,\"p99_ms\":%d,\"max_ms\":%d,\"changes\":%d", rate, lag[0], lag[1], lag[2], lag[3])));
            if (big > 0) {
                double[] capped = refreshInSeparateJvms(root.resolve("capped"), big);
                lines.add(line(json, "refresh-256m", "a new node refreshes " + big + " entries, two JVMs at -Xmx256m",
                        String.format(Locale.ROOT, "%.1f s, %.0f entries/s; peak heap supplier %.0f MB, consumer %.0f MB", capped[0], big / capped[0],
                                capped[1] / 1e6, capped[2] / 1e6),
                        String.format(Locale.ROOT, "\"entries\":%d,\"seconds\":%.2f,\"supplier_peak_heap_bytes\":%.0f,\"consumer_peak_heap_bytes\":%.0f,\"heap_cap_mb\":256",
                                big, capped[0], capped[1], capped[2])));
                for (int size : new int[] {Math.min(10_000, big), big}) {
                    double[] d = bigDatabase(root.resolve("big-" + size), size);
                    lines.add(line(json, "refresh", "a new node refreshes " + size + " entries",
                            String.format(Locale.ROOT, "%.1f s, %.0f entries/s, %.1f MB/s", d[0], size / d[0], d[1]),
                            String.format(Locale.ROOT, "\"entries\":%d,\"seconds\":%.2f,\"mb_per_second\":%.1f", size, d[0], d[1])));
                    lines.add(line(json, "delta", "10 new entries reach a node holding " + size,
                            String.format(Locale.ROOT, "median %.1f ms, p99 %.1f ms", d[2], d[3]),
                            String.format(Locale.ROOT, "\"entries\":%d,\"median_ms\":%.2f,\"p99_ms\":%.2f", size, d[2], d[3])));
                }
            }
            lines.forEach(System.out::println);
            return 0;
        } finally {
            TempDirs.delete(root);
        }
    }

    private static String line(boolean json, String workload, String what, String figures, String jsonFields) {
        if (json) {
            return "{\"workload\":\"" + workload + "\"," + jsonFields + ",\"cores\":" + Runtime.getRuntime().availableProcessors() + "}";
        }
        return String.format("%-10s %-55s %s", workload, what, figures);
    }

    // ---- the TLS limit

    static double tlsLoopback(Path dir) throws Exception {
        NodeIdentity server = NodeIdentity.create(dir.resolve("s"), "s", NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC());
        NodeIdentity client = NodeIdentity.create(dir.resolve("c"), "c", NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC());
        SslContext serverTls = Tls.server(server, List.of(client.certificate()));
        SslContext clientTls = Tls.client(client, List.of(server.certificate()));
        long total = 1L << 30;
        AtomicLong received = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try {
            Channel listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class).childHandler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(serverTls.newHandler(ch.alloc())).addLast(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ByteBuf b = (ByteBuf) msg;
                            if (received.addAndGet(b.readableBytes()) >= total) {
                                done.countDown();
                            }
                            b.release();
                        }
                    });
                }
            }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            SslHandler[] ssl = new SslHandler[1];
            Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel c) {
                    ssl[0] = clientTls.newHandler(c.alloc());
                    c.pipeline().addLast(ssl[0]);
                }
            }).connect(listener.localAddress()).sync().channel();
            ssl[0].handshakeFuture().sync();
            byte[] chunk = new byte[64 * 1024];
            long start = System.nanoTime();
            for (long sent = 0; sent < total; sent += chunk.length) {
                while (!ch.isWritable()) {
                    Thread.onSpinWait();
                }
                ch.writeAndFlush(ch.alloc().buffer(chunk.length).writeBytes(chunk), ch.voidPromise());
            }
            if (!done.await(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the TLS loopback transfer did not finish");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            ch.close().sync();
            listener.close().sync();
            return total / seconds / 1e6;
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    // ---- a refresh between two JVMs with capped heaps

    /** @return seconds, supplier peak heap, consumer peak heap */
    static double[] refreshInSeparateJvms(Path dir, int entries) throws Exception {
        Path jar = Path.of(ReplicationBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // the supplier pins the consumer: make the consumer's identity first
        Files.createDirectories(dir.resolve("consumer"));
        NodeIdentity consumerId = NodeIdentity.create(dir.resolve("consumer").resolve("identity"), "consumer", NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC());
        Files.writeString(dir.resolve("consumer").resolve("cert.pem"), consumerId.certificatePem());
        Process supplier = new ProcessBuilder(javaBin, "-Xmx256m", "-jar", jar.toString(), "node-process", "supplier",
                dir.resolve("supplier").toString(), Integer.toString(entries)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (var supplierOut = new java.io.BufferedReader(new java.io.InputStreamReader(supplier.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
            String[] ready = expect(supplierOut, "READY").split(" ");
            Process consumer = new ProcessBuilder(javaBin, "-Xmx256m", "-jar", jar.toString(), "node-process", "consumer",
                    dir.resolve("consumer").toString(), ready[1]).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String[] joined;
            String consumerPeak;
            try (var consumerOut = new java.io.BufferedReader(new java.io.InputStreamReader(consumer.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
                joined = expect(consumerOut, "JOINED").split(" ");
                consumerPeak = expect(consumerOut, "PEAK_HEAP").split(" ")[1];
            }
            consumer.waitFor();
            supplier.getOutputStream().close();
            String supplierPeak = expect(supplierOut, "PEAK_HEAP").split(" ")[1];
            supplier.waitFor();
            if (!joined[2].equals(ready[2])) {
                throw new IllegalStateException("the refreshed node's digest differs from the supplier's: the figure would be meaningless");
            }
            return new double[] {Double.parseDouble(joined[1]), Double.parseDouble(supplierPeak), Double.parseDouble(consumerPeak)};
        } finally {
            supplier.destroyForcibly();
        }
    }

    private static String expect(java.io.BufferedReader in, String prefix) throws java.io.IOException {
        for (String line; (line = in.readLine()) != null; ) {
            if (line.startsWith(prefix + " ")) {
                return line;
            }
        }
        throw new IllegalStateException("a node process ended before saying " + prefix);
    }

    // ---- nodes

    private record Pair(Engine a, Engine b, NodeIdentity ia, NodeIdentity ib, ReplicationNode na, ReplicationNode[] nb) implements AutoCloseable {
        ReplicationNode startB(Duration interval) {
            if (nb[0] != null) {
                nb[0].close();
            }
            nb[0] = ReplicationNode.start(b, ib, new InetSocketAddress("127.0.0.1", 0), List.of(),
                    List.of(new Agreement("b<-a", na.address(), ia.certificate(), Agreement.Mode.PULL, interval, true)), TransportOptions.DEFAULTS);
            return nb[0];
        }

        void stopB() {
            if (nb[0] != null) {
                nb[0].close();
                nb[0] = null;
            }
        }

        @Override
        public void close() {
            stopB();
            na.close();
            a.close();
            b.close();
        }
    }

    private static Pair pair(Path dir) {
        Engine a = Engine.open(EngineOptions.builder(dir.resolve("a")).build());
        Engine b = Engine.open(EngineOptions.builder(dir.resolve("b")).build());
        a.transaction().defineNamespace(IdentityEntries.NAMESPACE, IdentityEntries.schema()).commit();
        b.markRefreshRequired("new node: joining the domain");
        NodeIdentity ia = NodeIdentity.create(dir.resolve("ia"), "a", NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC());
        NodeIdentity ib = NodeIdentity.create(dir.resolve("ib"), "b", NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC());
        ReplicationNode na = ReplicationNode.start(a, ia, new InetSocketAddress("127.0.0.1", 0), List.of(ib.certificate()), List.of(), TransportOptions.DEFAULTS);
        return new Pair(a, b, ia, ib, na, new ReplicationNode[1]);
    }

    private static void await(String what, Duration timeout, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.sleep(1);
        }
    }

    private static void writeBatched(Engine e, int entries, String prefix) {
        for (int i = 0; i < entries; i += 1000) {
            Transaction tx = e.transaction();
            for (int j = i; j < Math.min(entries, i + 1000); j++) {
                tx.create(IdentityEntries.NAMESPACE, e.newEntryId(), IdentityEntries.entry(prefix, j));
            }
            tx.commit();
        }
    }

    private static void checkConverged(Pair p) {
        if (!p.a().digest().equals(p.b().digest())) {
            throw new IllegalStateException("the nodes did not converge: the figure would be meaningless");
        }
    }

    /** @return entries/s and MB/s (of change records) */
    static double[] replicate(Path dir, int entries) throws Exception {
        try (Pair p = pair(dir)) {
            p.startB(Duration.ofSeconds(5));
            await("b to join", Duration.ofSeconds(60), () -> p.b().refreshRequired().isEmpty() && p.b().ruv().covers(p.a().ruv()));
            p.stopB();
            writeBatched(p.a(), entries, "rep-");
            long bytes = 0;
            try (var s = p.a().supplyChanges(p.b().ruv(), "measure")) {
                for (var b = s.next(1000, 4 << 20); b != null; b = s.next(1000, 4 << 20)) {
                    bytes += b.bytes();
                }
            }
            long start = System.nanoTime();
            p.startB(Duration.ofSeconds(5));
            await("b to catch up", Duration.ofMinutes(10), () -> p.b().ruv().covers(p.a().ruv()));
            double seconds = (System.nanoTime() - start) / 1e9;
            checkConverged(p);
            return new double[] {entries / seconds, bytes / seconds / 1e6};
        }
    }

    /** @return p50, p99, max lag in ms, and the number of changes measured */
    static long[] lag(Path dir, int rate, int seconds) throws Exception {
        try (Pair p = pair(dir)) {
            p.startB(Duration.ofSeconds(5));
            await("b to join", Duration.ofSeconds(60), () -> p.b().refreshRequired().isEmpty() && p.b().ruv().covers(p.a().ruv()));
            List<Long> lags = new CopyOnWriteArrayList<>();
            var origin = p.a().originId();
            try (var sub = p.b().feed().subscribe("bench-lag", (FeedEvent e) -> {
                if (!e.local() && !e.reset() && e.cid().origin().equals(origin)) {
                    lags.add(System.currentTimeMillis() - e.cid().physicalMillis());
                }
            })) {
                long start = System.nanoTime();
                long total = (long) rate * seconds;
                for (long i = 0; i < total; i++) {
                    long due = start + i * 1_000_000_000L / rate;
                    while (System.nanoTime() < due) {
                        Thread.onSpinWait();
                    }
                    p.a().transaction().create(IdentityEntries.NAMESPACE, p.a().newEntryId(), IdentityEntries.entry("lag-", i)).commit();
                }
                await("b to receive every change", Duration.ofSeconds(60), () -> lags.size() >= total);
            }
            checkConverged(p);
            long[] sorted = lags.stream().mapToLong(Long::longValue).sorted().toArray();
            return new long[] {sorted[sorted.length / 2], sorted[(int) Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)],
                    sorted[sorted.length - 1], sorted.length};
        }
    }

    /** @return refresh seconds and MB/s, then the 10-change delta's median and p99 in ms */
    static double[] bigDatabase(Path dir, int entries) throws Exception {
        try (Pair p = pair(dir)) {
            writeBatched(p.a(), entries, "big-");
            long snapshotBytes = 0;
            try (var export = p.a().exportSnapshot("measure")) {
                for (var c = export.nextChunk(4 << 20); c != null; c = export.nextChunk(4 << 20)) {
                    snapshotBytes += c.size();
                }
            }
            long start = System.nanoTime();
            p.startB(Duration.ofMinutes(5));
            await("b to be refreshed", Duration.ofMinutes(30), () -> p.b().refreshRequired().isEmpty() && p.b().ruv().covers(p.a().ruv()));
            double refresh = (System.nanoTime() - start) / 1e9;
            await("b to follow a", Duration.ofSeconds(30), () -> p.nb()[0].status().get(0).lastSuccess() != null);
            double[] rounds = new double[20];
            for (int r = 0; r < rounds.length; r++) {
                Transaction tx = p.a().transaction();
                for (int i = 0; i < 10; i++) {
                    tx.create(IdentityEntries.NAMESPACE, p.a().newEntryId(), IdentityEntries.entry("delta-" + r + "-", i));
                }
                long t0 = System.nanoTime();
                tx.commit();
                await("the delta to reach b", Duration.ofSeconds(30), () -> p.b().ruv().covers(p.a().ruv()));
                rounds[r] = (System.nanoTime() - t0) / 1e6;
                Thread.sleep(20);
            }
            checkConverged(p);
            Arrays.sort(rounds);
            return new double[] {refresh, snapshotBytes / refresh / 1e6, rounds[rounds.length / 2], rounds[rounds.length - 1]};
        }
    }
}
