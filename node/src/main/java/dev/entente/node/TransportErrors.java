package dev.entente.node;

import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLException;

/** Turns transport failures into what a person reads: who refused whom, and why. */
final class TransportErrors {
    private TransportErrors() {
    }

    static String describe(Throwable t) {
        if (t instanceof SslHandshakeTimeoutException) {
            return "the TLS handshake did not finish in time: " + t.getMessage();
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof CertificateException) {
                return "TLS refused: " + c.getMessage();
            }
        }
        if (t instanceof SSLException) {
            String m = String.valueOf(t.getMessage());
            if (m.contains("certificate_unknown") || m.contains("bad_certificate") || m.contains("certificate_required")) {
                return "TLS refused by the peer, which does not pin this node's certificate (" + m + "): pin it there";
            }
            if (m.contains("protocol_version") || m.contains("No appropriate protocol")) {
                return "TLS refused: the peer does not speak TLS 1.3 (" + m + ")";
            }
            return "TLS failed: " + m;
        }
        if (t instanceof java.nio.channels.ClosedChannelException) {
            // Netty's is stackless and says nothing; in TLS 1.3 a peer that refuses this node's
            // certificate may also just close, so both causes are named.
            return "the peer closed the connection before the TLS handshake finished: it may be stopping or restarting, or it refused"
                    + " this node (its log says why)";
        }
        return t.toString();
    }
}
