package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.entente.engine.Engine;
import dev.entente.protocol.SessionMessages;
import dev.entente.protocol.SessionMessages.Frame;
import io.netty.buffer.Unpooled;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every refusal of the transport is triggered, and its reason is logged on the side that refused. */
class RefusalTest {

    static boolean hasRefusal(ReplicationNode n, SessionMessages.Error.Code code, String text) {
        return n.refusals().recent().stream().anyMatch(r -> (code == null || r.code() == code) && r.reason().contains(text));
    }

    static String lastError(ReplicationNode n) {
        return String.valueOf(n.status().get(0).lastError());
    }

    @Test
    void aConsumerWhoseCertificateIsNotPinnedIsRefusedAndBothSidesSayWhy(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            c.founder("a");
            c.joiner("x");
            ReplicationNode a = c.start("a", List.of(), List.of());
            ReplicationNode x = c.start("x", List.of(), List.of("a"));
            Cluster.await("a to refuse x", Duration.ofSeconds(10), () -> hasRefusal(a, null, "is not pinned here"));
            assertTrue(hasRefusal(a, null, "CN=x"), a.refusals().recent().toString());
            Cluster.await("x to report the refusal", Duration.ofSeconds(10), () -> lastError(x).contains("TLS"));
        }
    }

    @Test
    void aSupplierWhoseCertificateIsNotPinnedIsRefused(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            c.founder("a");
            c.joiner("b");
            c.identity("impostor");
            ReplicationNode a = c.start("a", List.of("b"), List.of());
            // b pins the impostor's certificate for a's address
            ReplicationNode b = ReplicationNode.start(c.engine("b"), c.identity("b"), new InetSocketAddress("127.0.0.1", 0), List.of(),
                    List.of(new Agreement("b<-a", a.address(), c.identity("impostor").certificate(), Agreement.Mode.PULL, Duration.ofSeconds(1), true)),
                    TransportOptions.DEFAULTS);
            try {
                Cluster.await("b to refuse a", Duration.ofSeconds(10), () -> lastError(b).contains("supplier's certificate") && lastError(b).contains("not pinned"));
            } finally {
                b.close();
            }
        }
    }

    @Test
    void aSupplierAddressThatClosesEveryConnectionIsReportedInWords(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir); java.net.ServerSocket closer = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                while (!closer.isClosed()) {
                    try (Socket s = closer.accept()) {
                        s.shutdownOutput();
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            c.founder("a");
            c.joiner("b");
            ReplicationNode b = ReplicationNode.start(c.engine("b"), c.identity("b"), new InetSocketAddress("127.0.0.1", 0), List.of(),
                    List.of(new Agreement("b<-closer", (InetSocketAddress) closer.getLocalSocketAddress(), c.identity("a").certificate(),
                            Agreement.Mode.PULL, Duration.ofSeconds(1), true)),
                    TransportOptions.DEFAULTS);
            try {
                Cluster.await("b to say the connection closed", Duration.ofSeconds(10), () -> lastError(b).contains("closed the connection"));
                assertTrue(!lastError(b).contains("Exception"), lastError(b));
            } finally {
                b.close();
            }
        }
    }

    @Test
    void aConsumerOfAnotherDomainIsRefused(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            c.founder("a");
            c.founder("other");
            ReplicationNode a = c.start("a", List.of("other"), List.of());
            ReplicationNode other = c.start("other", List.of(), List.of("a"));
            Cluster.await("the domain refusal", Duration.ofSeconds(10), () -> hasRefusal(a, SessionMessages.Error.Code.DOMAIN_MISMATCH, "different domains"));
            Cluster.await("other to report it", Duration.ofSeconds(10), () -> lastError(other).contains("DOMAIN_MISMATCH"));
        }
    }

    private static Frame hello(Engine e, int version) {
        return Frame.newBuilder().setHello(SessionMessages.Hello.newBuilder().setProtocolVersion(version).setNodeName("raw")
                .setOriginId(ByteString.copyFrom(e.originId().toBytes())).setDomainId(dev.entente.protocol.Ids.byteString(e.domainId()))).build();
    }

    private RawPeer raw(Cluster c, ReplicationNode supplier) throws InterruptedException {
        return new RawPeer(Tls.client(c.identity("raw"), List.of(c.identity("a").certificate())), supplier.address());
    }

    @Test
    void anotherProtocolVersionIsRefused(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            Engine e = c.founder("a");
            c.identity("raw");
            ReplicationNode a = c.start("a", List.of("raw"), List.of());
            try (RawPeer p = raw(c, a)) {
                p.send(hello(e, 99));
                Frame f = p.next();
                assertEquals(SessionMessages.Error.Code.PROTOCOL_VERSION, f.getError().getCode());
                assertTrue(f.getError().getMessage().contains("version 99") && f.getError().getMessage().contains("version 1"), f.getError().getMessage());
                assertTrue(p.awaitClosed());
            }
            assertTrue(hasRefusal(a, SessionMessages.Error.Code.PROTOCOL_VERSION, "version 99"));
        }
    }

    @Test
    void aMalformedFrameIsRefused(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            c.founder("a");
            c.identity("raw");
            ReplicationNode a = c.start("a", List.of("raw"), List.of());
            try (RawPeer p = raw(c, a)) {
                p.sendRaw(Unpooled.buffer().writeInt(3).writeBytes(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF}));
                assertEquals(SessionMessages.Error.Code.MALFORMED_FRAME, p.next().getError().getCode());
                assertTrue(p.awaitClosed());
            }
            assertTrue(hasRefusal(a, SessionMessages.Error.Code.MALFORMED_FRAME, "not a valid message"));
        }
    }

    @Test
    void anOversizedFrameIsRefusedBeforeItArrives(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            c.founder("a");
            c.identity("raw");
            ReplicationNode a = c.start("a", List.of("raw"), List.of());
            try (RawPeer p = raw(c, a)) {
                p.sendRaw(Unpooled.buffer().writeInt(1 << 30));
                Frame f = p.next();
                assertEquals(SessionMessages.Error.Code.FRAME_TOO_LARGE, f.getError().getCode());
                assertTrue(f.getError().getMessage().contains("1073741824"), f.getError().getMessage());
                assertTrue(p.awaitClosed());
            }
            assertTrue(hasRefusal(a, SessionMessages.Error.Code.FRAME_TOO_LARGE, "maximum"));
        }
    }

    @Test
    void aHandshakeThatDoesNotFinishInTimeIsRefused(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            c.options = TransportOptions.DEFAULTS.withHandshakeTimeout(Duration.ofMillis(300));
            c.founder("a");
            ReplicationNode a = c.start("a", List.of(), List.of());
            try (Socket s = new Socket()) {
                s.connect(a.address());
                InputStream in = s.getInputStream();
                s.setSoTimeout(5000);
                assertEquals(-1, in.read(), "the server closes a connection that never completes TLS");
            }
            Cluster.await("the timeout to be logged", Duration.ofSeconds(5), () -> hasRefusal(a, null, "did not finish in time"));
        }
    }

    @Test
    void aPeerWithoutTls13IsRefused(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            c.founder("a");
            ReplicationNode a = c.start("a", List.of(), List.of());
            SSLContext ctx = SSLContext.getInstance("TLSv1.2");
            ctx.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
                public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {
                }

                public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {
                }

                public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                    return new java.security.cert.X509Certificate[0];
                }
            }}, null);
            try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(a.address().getAddress(), a.address().getPort())) {
                s.setEnabledProtocols(new String[] {"TLSv1.2"});
                s.setSoTimeout(5000);
                Predicate<Exception> refused = e -> true;
                try {
                    s.startHandshake();
                    throw new AssertionError("a TLS 1.2 handshake succeeded");
                } catch (java.io.IOException e) {
                    assertTrue(refused.test(e));
                }
            }
            Cluster.await("the refusal to be logged", Duration.ofSeconds(5), () -> hasRefusal(a, null, "TLS"));
        }
    }
}
