package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.engine.Attributes;
import dev.entente.engine.Engine;
import dev.entente.engine.clock.HybridClock;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.Ruv;
import dev.entente.engine.session.Frames;
import dev.entente.protocol.SessionMessages;
import dev.entente.protocol.SessionMessages.Error.Code;
import dev.entente.protocol.SessionMessages.Frame;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks by a peer holding a pinned key, on real nodes over real TLS: a hand-written consumer
 * ("raw", pinned on node a) and a hand-written supplier ("evil", pinned by an agreement of node
 * b). Each attack asserts that the attacked node keeps serving its honest peer, keeps every
 * acknowledged write, and reports the refusal under the configured name.
 */
class HostilePeerTest {

    /** a serves b and raw; b pulls from a; both converge first. */
    private static Cluster twoNodesAndRaw(Path dir) throws Exception {
        return twoNodesAndRaw(dir, TransportOptions.DEFAULTS);
    }

    private static Cluster twoNodesAndRaw(Path dir, TransportOptions options) throws Exception {
        Cluster c = new Cluster(dir);
        c.options = options.withSilenceTimeout(Duration.ofSeconds(2));
        c.founder("a");
        c.joiner("b");
        c.identity("raw");
        c.start("a", List.of("b", "raw"), List.of());
        c.start("b", List.of(), List.of("a"));
        c.awaitConvergence(Duration.ofSeconds(20));
        return c;
    }

    private static RawPeer raw(Cluster c) throws InterruptedException {
        return new RawPeer(Tls.client(c.identity("raw"), List.of(c.identity("a").certificate())), c.nodes.get("a").address());
    }

    private static Frame hello(Engine domainOf, String name, int mutualPort) {
        return Frames.hello(name, OriginId.random(new SecureRandom()), domainOf.domainId(), false, mutualPort);
    }

    private static Frame pull(Ruv ruv, int credit, int records, long bytes) {
        return Frame.newBuilder().setPull(SessionMessages.PullRequest.newBuilder().setRuv(ruv.toWire()).setCredit(credit)
                .setMaxBatchRecords(records).setMaxBatchBytes(bytes)).build();
    }

    /** a keeps taking writes, b keeps getting them, and no connection of a holds more than credit's worth of unsent batches. */
    private static void assertStillServing(Cluster c) throws InterruptedException {
        Engine a = c.engine("a");
        long bound = (c.options.credit() + 1L) * c.options.batchBytes() + (2 << 20);
        assertTrue(c.nodes.get("a").largestSendBuffer() <= bound, "send buffer " + c.nodes.get("a").largestSendBuffer() + " bytes");
        assertTrue(a.refreshRequired().isEmpty(), "a is not marked for refresh: " + a.refreshRequired());
        UUID id = a.create("people", Attributes.ofText("name", "after-" + UUID.randomUUID()));
        Cluster.await("a's write to reach b", Duration.ofSeconds(15), () -> c.engine("b").get("people", id).isPresent());
    }

    private static boolean refusedAs(ReplicationNode n, String peer, String text) {
        return n.refusals().recent().stream().anyMatch(r -> r.peer().equals(peer) && r.reason().contains(text));
    }

    @Test
    void finding1AConsumerClaimingTheSuppliersOwnOriginUpToTheEndOfTimeIsRefusedAndTheSupplierStaysInService(@TempDir Path dir) throws Exception {
        try (Cluster c = twoNodesAndRaw(dir)) {
            Engine a = c.engine("a");
            UUID acknowledged = a.create("people", Attributes.ofText("name", "acknowledged"));
            OriginId origin = a.originId();
            try (RawPeer p = raw(c)) {
                p.send(hello(a, "raw", 0));
                assertTrue(p.next().hasHello());
                p.send(pull(a.ruv().with(origin, new Ruv.Range(Long.MAX_VALUE, 0)), 4, 100, 1 << 20));
                Frame f = p.next();
                assertEquals(Code.MALFORMED_FRAME, f.getError().getCode(), f.toString());
                assertTrue(p.awaitClosed());
            }
            assertEquals(origin, a.originId(), "an impossible claim changes nothing");
            assertTrue(refusedAs(c.nodes.get("a"), "raw", "later than this node's clock allows"), c.nodes.get("a").refusals().recent().toString());
            // A claim that could be true (a disk that lost changes) costs a new origin, once, and nothing else.
            try (RawPeer p = raw(c)) {
                p.send(hello(a, "raw", 0));
                assertTrue(p.next().hasHello());
                long plausible = HybridClock.hlcOf(System.currentTimeMillis() + 1000);
                p.send(pull(a.ruv().with(origin, new Ruv.Range(plausible, 0)), 4, 100, 1 << 20));
                Frame f = p.next();
                assertFalse(f.hasError(), f.toString());
            }
            assertFalse(a.originId().equals(origin), "a took a new origin for its writes");
            assertStillServing(c);
            assertTrue(a.get("people", acknowledged).isPresent(), "the acknowledged write stays");
        }
    }

    @Test
    void finding2AConsumerPinnedWithoutMutualCannotMakeTheNodePullFromIt(@TempDir Path dir) throws Exception {
        try (Cluster c = twoNodesAndRaw(dir)) {
            ReplicationNode a = c.nodes.get("a");
            try (RawPeer p = raw(c)) {
                p.send(hello(c.engine("a"), "raw", 9));
                assertTrue(p.next().hasHello());
                Cluster.await("the refusal of the mutual request", Duration.ofSeconds(5), () -> refusedAs(a, "raw", "does not allow it"));
            }
            assertEquals(0, a.status().size(), "no agreement was created by a Hello");
            assertStillServing(c);
        }
    }

    @Test
    void finding2AFakeSupplierSayingRefreshRequiredCannotWedgeACurrentNode(@TempDir Path dir) throws Exception {
        try (Cluster c = twoNodesAndRaw(dir); EvilSupplier evil = new EvilSupplier(c, "b", EvilSupplier.Mode.REFRESH_REQUIRED)) {
            Engine b = c.engine("b");
            c.stop("b");
            ReplicationNode nb = ReplicationNode.start(b, c.identity("b"), new InetSocketAddress("127.0.0.1", 0), List.of(),
                    List.of(Agreement.pull("b<-a", c.nodes.get("a").address(), c.identity("a").certificate()),
                            Agreement.pull("b<-evil", evil.address(), c.identity("evil").certificate())), c.options);
            c.nodes.put("b", nb);
            Cluster.await("b to refuse evil's word", Duration.ofSeconds(15),
                    () -> nb.status().stream().anyMatch(s -> s.name().equals("b<-evil") && String.valueOf(s.lastError()).contains("not refreshed on one supplier's word")));
            assertTrue(b.refreshRequired().isEmpty(), "b stays in service: " + b.refreshRequired());
            assertStillServing(c);
            b.create("people", Attributes.ofText("name", "b-still-writes"));
        }
    }

    @Test
    void finding3AHelloGivingAnotherNodesNameOrALogLineIsRefusedUnderThePinnedName(@TempDir Path dir) throws Exception {
        try (Cluster c = twoNodesAndRaw(dir)) {
            ReplicationNode a = c.nodes.get("a");
            for (String forged : List.of("b", "b\nINFO forged line")) {
                try (RawPeer p = raw(c)) {
                    p.send(hello(c.engine("a"), forged, 0));
                    Frame f = p.next();
                    assertEquals(Code.NOT_AUTHORIZED, f.getError().getCode());
                    assertTrue(p.awaitClosed());
                }
            }
            assertTrue(refusedAs(a, "raw", "pinned here as 'raw' says it is b"), a.refusals().recent().toString());
            String rawKey = NodeIdentity.publicKeyFingerprint(c.identity("raw").certificate());
            assertTrue(a.refusals().recent().stream().anyMatch(r -> r.peer().equals("raw") && rawKey.equals(r.key())), "the refusal names the key too");
            assertTrue(a.refusals().recent().stream().noneMatch(r -> r.reason().contains("\n") || r.peer().contains("\n")));
            assertTrue(a.refusals().recent().stream().allMatch(r -> r.peer().equals("raw") || r.peer().startsWith("/")), "named by pin or address");
            assertStillServing(c);
        }
    }

    @Test
    void finding4HugeCreditAndBatchesAreClampedAndAConsumerThatStopsReadingIsCut(@TempDir Path dir) throws Exception {
        // Batches of 5 records at most, so that 40 changes need more batches than the credit.
        try (Cluster c = twoNodesAndRaw(dir, new TransportOptions(16 << 20, 5, 1L << 20, 4, Duration.ofSeconds(10), Duration.ofMillis(100),
                Duration.ofSeconds(30)))) {
            Engine a = c.engine("a");
            for (int i = 0; i < 40; i++) {
                a.create("people", Attributes.ofText("name", "bulk-" + i));
            }
            try (RawPeer p = raw(c)) {
                p.send(hello(a, "raw", 0));
                assertTrue(p.next().hasHello());
                p.send(pull(Ruv.EMPTY, Integer.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE));
                Thread.sleep(500);
                long batches = p.received.stream().filter(Frame::hasBatch).count();
                assertTrue(batches >= 1 && batches <= TransportOptions.DEFAULTS.credit(), "credit clamped: " + batches + " batches before any credit");
                assertTrue(p.received.stream().filter(Frame::hasBatch).allMatch(f -> f.getBatch().getRecordsCount() <= 5), "batch records clamped");
                // It grants nothing more: after the silence timeout the supplier cuts it.
                assertTrue(p.awaitClosed(), "a consumer that stops granting credit is cut");
            }
            try (RawPeer p = raw(c)) {
                p.send(hello(a, "raw", 0));
                assertTrue(p.next().hasHello());
                // Half a frame, then nothing: the partial frame times out.
                p.sendRaw(Unpooled.wrappedBuffer(new byte[] {0, 0, 1, 0, 1, 2, 3}));
                assertTrue(p.awaitClosed(), "a partial frame times out");
            }
            Cluster.await("the partial frame's refusal", Duration.ofSeconds(5), () -> refusedAs(c.nodes.get("a"), "raw", "still incomplete"));
            assertStillServing(c);
        }
    }

    @Test
    void finding4AConsumerThatGrantsCreditButDoesNotReadIsCutWithTheSuppliersBufferBounded(@TempDir Path dir) throws Exception {
        // 64 KiB batches: the supplier stops sending past (credit + 1) batches and 1 MiB unsent.
        try (Cluster c = twoNodesAndRaw(dir, new TransportOptions(16 << 20, 1000, 64 << 10, 4, Duration.ofSeconds(10), Duration.ofMillis(100),
                Duration.ofSeconds(30)))) {
            Engine a = c.engine("a");
            String big = "v".repeat(100_000);
            for (int i = 0; i < 120; i++) {
                a.create("people", Attributes.ofText("name", "big-" + i, "note", big));
            }
            try (RawPeer p = raw(c)) {
                p.send(hello(a, "raw", 0));
                assertTrue(p.next().hasHello());
                p.channel.config().setAutoRead(false);
                p.send(pull(Ruv.EMPTY, 4, 1000, 64 << 10));
                long largest = 0;
                for (int i = 0; i < 400; i++) {
                    p.channel.writeAndFlush(Frames.credit(1));
                    Thread.sleep(2);
                    largest = Math.max(largest, c.nodes.get("a").largestSendBuffer());
                }
                // 12 MB to send: without the bound, what the socket does not take piles up here.
                long bound = 5 * (64 << 10) + (1 << 20) + (1 << 20);
                assertTrue(largest <= bound, "the supplier's send buffer stays within credit's worth of batches: " + largest + " bytes");
                // While the supplier's send buffer is full it sends nothing, so the credit granted
                // piles up past its limit (or, granted no more, times out): either way, cut.
                Cluster.await("the supplier to cut the consumer that does not read", Duration.ofSeconds(15),
                        () -> refusedAs(c.nodes.get("a"), "raw", "it stopped reading") || refusedAs(c.nodes.get("a"), "raw", "allows in flight"));
            }
            assertStillServing(c);
        }
    }

    @Test
    void finding5ManyHellosCreateNoAgreementAndOneConsumerHoldsFewSessions(@TempDir Path dir) throws Exception {
        try (Cluster c = twoNodesAndRaw(dir)) {
            ReplicationNode a = c.nodes.get("a");
            List<RawPeer> peers = new ArrayList<>();
            try {
                for (int i = 0; i < 12; i++) {
                    RawPeer p = raw(c);
                    peers.add(p);
                    // Not waited for: a refused connection may be closed before it is written.
                    p.channel.writeAndFlush(hello(c.engine("a"), "raw", 1000 + i));
                }
                int served = 0;
                int refused = 0;
                for (RawPeer p : peers) {
                    Frame f = p.next();
                    if (f.hasHello()) {
                        served++;
                    } else {
                        assertEquals(Code.NOT_AUTHORIZED, f.getError().getCode());
                        refused++;
                    }
                }
                assertEquals(TransportOptions.DEFAULTS.maxSessionsPerPeer(), served, "one consumer holds at most its limit of sessions");
                assertEquals(12 - served, refused);
            } finally {
                peers.forEach(RawPeer::close);
            }
            assertEquals(0, a.status().size(), "no agreement created");
            assertTrue(a.refusals().suppressed() > 0, "repeated refusals of one peer are not all logged");
            assertStillServing(c);
        }
    }

    @Test
    void finding6ASupplierThatFallsSilentMidRefreshIsCutAndTheNodeRefreshesFromAnotherAgreement(@TempDir Path dir) throws Exception {
        // The joining node is the one a pins as "raw".
        try (Cluster c = twoNodesAndRaw(dir); EvilSupplier evil = new EvilSupplier(c, "raw", EvilSupplier.Mode.SILENT_REFRESH)) {
            Engine j = c.joiner("raw");
            ReplicationNode nj = ReplicationNode.start(j, c.identity("raw"), new InetSocketAddress("127.0.0.1", 0), List.of(),
                    List.of(Agreement.pull("j<-evil", evil.address(), c.identity("evil").certificate()),
                            Agreement.pull("j<-a", c.nodes.get("a").address(), c.identity("a").certificate())), c.options);
            c.nodes.put("raw", nj);
            Cluster.await("j refreshed from a despite evil", Duration.ofSeconds(30), () -> j.refreshRequired().isEmpty());
            assertEquals(c.engine("a").digest(), j.digest());
        }
    }

    @Test
    void finding7AHugeNameCostsTheLogABoundedLine(@TempDir Path dir) throws Exception {
        try (Cluster c = twoNodesAndRaw(dir)) {
            ReplicationNode a = c.nodes.get("a");
            try (RawPeer p = raw(c)) {
                p.send(hello(c.engine("a"), "n".repeat(4 << 20), 0));
                assertEquals(Code.NOT_AUTHORIZED, p.next().getError().getCode());
            }
            assertTrue(a.refusals().recent().stream().allMatch(r -> r.reason().length() < 4096),
                    "every reason is bounded: " + a.refusals().recent().stream().mapToInt(r -> r.reason().length()).max());
        }
    }

    @Test
    void finding8AfterAConsumersErrorFrameTheSupplierClosesTheConnection(@TempDir Path dir) throws Exception {
        try (Cluster c = twoNodesAndRaw(dir)) {
            try (RawPeer p = raw(c)) {
                p.send(hello(c.engine("a"), "raw", 0));
                assertTrue(p.next().hasHello());
                p.send(Frames.error(Code.INTERNAL, "giving up"));
                assertTrue(p.awaitClosed(), "closed by the supplier");
            }
            assertStillServing(c);
        }
    }

    /**
     * A hand-written supplier holding a key pinned by the attacked node's agreement: it answers
     * the Hello as node "evil" in the right domain, then either says REFRESH_REQUIRED to every pull
     * or, asked for a refresh, sends nothing more.
     */
    static final class EvilSupplier implements AutoCloseable {
        enum Mode { REFRESH_REQUIRED, SILENT_REFRESH }

        private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        private final Channel server;

        EvilSupplier(Cluster c, String victim, Mode mode) throws InterruptedException {
            NodeIdentity id = c.identity("evil");
            Engine domain = c.engine("a");
            server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class).childHandler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(Tls.server(id, List.of(c.identity(victim).certificate())).newHandler(ch.alloc()))
                            .addLast(new FrameDecoder(16 << 20)).addLast(new FrameEncoder(16 << 20))
                            .addLast(new SimpleChannelInboundHandler<Frame>() {
                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, Frame f) {
                                    if (f.hasHello()) {
                                        ctx.writeAndFlush(Frames.hello("evil", OriginId.random(new SecureRandom()), domain.domainId(), false));
                                    } else if (f.hasPull() && mode == Mode.REFRESH_REQUIRED) {
                                        ctx.writeAndFlush(Frames.error(Code.REFRESH_REQUIRED, "you must refresh from me"));
                                    }
                                    // SILENT_REFRESH: a refresh request gets nothing, the connection stays open.
                                }
                            });
                }
            }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) server.localAddress();
        }

        @Override
        public void close() {
            server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
