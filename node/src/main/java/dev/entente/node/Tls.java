package dev.entente.node;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.security.cert.X509Certificate;
import java.util.Collection;
import javax.net.ssl.SSLException;

/**
 * TLS contexts of the replication transport: TLS 1.3 only, mutual authentication, trust by
 * pinned certificates alone (see {@link PinnedCertificates}). There is no plaintext mode.
 */
public final class Tls {
    static final String TLS_1_3 = "TLSv1.3";

    private Tls() {
    }

    /**
     * BoringSSL (netty-tcnative) when it loads on this platform and speaks TLS 1.3, for about twice
     * the JDK provider's throughput; the JDK provider otherwise.
     */
    public static SslProvider provider() {
        return io.netty.handler.ssl.OpenSsl.isAvailable() && SslProvider.isTlsv13Supported(SslProvider.OPENSSL) ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** The supplier side: presents this node's certificate and accepts only pinned consumers. */
    public static SslContext server(NodeIdentity identity, Collection<X509Certificate> consumers) {
        return server(identity, new PinnedCertificates(consumers, "consumer", java.time.Instant::now));
    }

    /** The same, asking {@code pinned} at every handshake whether a consumer's key (its SHA-256) is pinned now. */
    public static SslContext server(NodeIdentity identity, java.util.function.Predicate<String> pinned) {
        return server(identity, new PinnedCertificates(pinned, "consumer", java.time.Instant::now));
    }

    private static SslContext server(NodeIdentity identity, PinnedCertificates consumers) {
        try {
            return SslContextBuilder.forServer(identity.privateKey(), identity.certificate())
                    .sslProvider(provider())
                    .protocols(TLS_1_3)
                    .clientAuth(ClientAuth.REQUIRE)
                    .trustManager(consumers)
                    .build();
        } catch (SSLException e) {
            throw new IdentityException("cannot set up TLS with the identity of '" + identity.name() + "': " + e.getMessage(), e);
        }
    }

    /** The consumer side of one agreement: presents this node's certificate and accepts only the pinned supplier. */
    public static SslContext client(NodeIdentity identity, Collection<X509Certificate> suppliers) {
        try {
            return SslContextBuilder.forClient()
                    .sslProvider(provider())
                    .keyManager(identity.privateKey(), identity.certificate())
                    .protocols(TLS_1_3)
                    .trustManager(new PinnedCertificates(suppliers, "supplier", java.time.Instant::now))
                    .build();
        } catch (SSLException e) {
            throw new IdentityException("cannot set up TLS with the identity of '" + identity.name() + "': " + e.getMessage(), e);
        }
    }
}
