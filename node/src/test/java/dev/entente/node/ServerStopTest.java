package dev.entente.node;

import dev.entente.engine.session.Frames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.engine.Attributes;
import dev.entente.engine.Engine;
import dev.entente.engine.clock.OriginId;
import dev.entente.protocol.SessionMessages;
import dev.entente.protocol.SessionMessages.Frame;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stopping supplier closes its consumers' sessions itself. The event loops' shutdown does not
 * always deliver each connection's inactive event; a session it missed kept its commit listener
 * on the engine, which outlives the node, and the engine's next commit ran it on a stopped pool.
 */
class ServerStopTest {

    @Test
    void closingTheServerClosesAFollowingConsumersSessionWhileTheNodesThreadsStillRun(@TempDir Path dir) throws Exception {
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (Cluster c = new Cluster(dir)) {
            Engine a = c.founder("a");
            ReplicationServer server = new ReplicationServer(a, "a", Tls.server(c.identity("a"), List.of(c.identity("raw").certificate())),
                    new InetSocketAddress("127.0.0.1", 0), boss, workers, pool, TransportOptions.DEFAULTS, new RefusalLog(), new SupplierChannel.Peers() {
                        final ConsumerPin raw = ConsumerPin.of("raw", c.identity("raw").certificate());

                        @Override
                        public ConsumerPin pinOf(java.security.cert.X509Certificate presented) {
                            return raw;
                        }

                        @Override
                        public boolean admit(ConsumerPin pin) {
                            return true;
                        }

                        @Override
                        public void release(ConsumerPin pin) {
                        }

                        @Override
                        public void mutualPullRequested(ConsumerPin pin, InetSocketAddress address) {
                        }
                    }, SessionLog.NONE);
            try (RawPeer p = new RawPeer(Tls.client(c.identity("raw"), List.of(c.identity("a").certificate())), server.address())) {
                p.send(Frames.hello("raw", OriginId.random(new SecureRandom()), a.domainId(), false));
                assertTrue(p.next().hasHello());
                p.send(Frame.newBuilder().setPull(SessionMessages.PullRequest.newBuilder().setRuv(a.ruv().toWire()).setCredit(4)
                        .setMaxBatchRecords(100).setMaxBatchBytes(1 << 20).setFollow(true)).build());
                assertTrue(p.next().hasEnd(), "an up-to-date consumer's pull ends at once");
                a.create("people", Attributes.ofText("name", "announced"));
                assertEquals(Frame.BodyCase.AVAILABLE, p.next().getBodyCase(), "the session follows: it listens for commits");

                server.close();
                assertTrue(p.awaitClosed(), "closing the server closed the consumer's connection, not only the listening socket");
            }
        } finally {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            pool.shutdownNow();
        }
    }
}
