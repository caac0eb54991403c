package dev.entente.node;

import dev.entente.protocol.PeerText;
import java.security.cert.X509Certificate;
import java.util.Objects;

/**
 * A consumer this node supplies: who it is is the key of its pinned certificate, and the name it
 * must give in its Hello is this one, which logs, status and the audit log use.
 *
 * @param name the consumer's node name
 * @param certificate its pinned certificate (its public key decides)
 * @param mutual whether its mutual-pull agreement may ask this node to pull from it too; without
 *     it, the consumer can only pull
 */
public record ConsumerPin(String name, X509Certificate certificate, boolean mutual) {
    public ConsumerPin {
        Objects.requireNonNull(certificate, "certificate");
        if (!PeerText.isNodeName(name)) {
            throw new IllegalArgumentException("consumer pin name " + PeerText.name(name) + " is not a node name (1-64 letters, digits, _ . -)");
        }
    }

    /** A consumer that may only pull. */
    public static ConsumerPin of(String name, X509Certificate certificate) {
        return new ConsumerPin(name, certificate, false);
    }

    /** The SHA-256 of its public key, hex: how logs tell keys apart. */
    public String keyHash() {
        return NodeIdentity.publicKeyFingerprint(certificate);
    }
}
