package dev.entente.node;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts exactly the peers whose certificates were pinned: no CA, no hostname. A peer is
 * recognised by its certificate's public key (so a renewed certificate for the same key stays
 * pinned) and its certificate must be within its validity period.
 */
final class PinnedCertificates extends X509ExtendedTrustManager {
    /** Whether a public key's SHA-256 is pinned now: a node pins and unpins consumers while it runs. */
    private final java.util.function.Predicate<String> pinned;
    private final String role;
    private final Supplier<java.time.Instant> clock;

    /**
     * @param role who the peers are, for error messages ("consumer", "supplier")
     */
    PinnedCertificates(Collection<X509Certificate> certificates, String role, Supplier<java.time.Instant> clock) {
        this(java.util.Set.copyOf(certificates.stream().map(NodeIdentity::publicKeyFingerprint).toList())::contains, role, clock);
    }

    /** @param pinned asked at every handshake, so that a key pinned or unpinned later counts from then on */
    PinnedCertificates(java.util.function.Predicate<String> pinned, String role, Supplier<java.time.Instant> clock) {
        this.pinned = pinned;
        this.role = role;
        this.clock = clock;
    }

    private void check(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the " + role + " presented no certificate");
        }
        X509Certificate peer = chain[0];
        String fingerprint = NodeIdentity.publicKeyFingerprint(peer);
        if (!pinned.test(fingerprint)) {
            throw new CertificateException("the " + role + "'s certificate (" + peer.getSubjectX500Principal().getName()
                    + ", public key SHA-256 " + fingerprint + ") is not pinned here: add its certificate to this node's configuration "
                    + "(entente cert show on that node prints it)");
        }
        try {
            peer.checkValidity(java.util.Date.from(clock.get()));
        } catch (CertificateException e) {
            throw new CertificateException("the " + role + "'s pinned certificate (" + peer.getSubjectX500Principal().getName()
                    + ") is not valid now (" + peer.getNotBefore().toInstant() + " to " + peer.getNotAfter().toInstant()
                    + "): renew it on that node (entente cert renew)", e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
