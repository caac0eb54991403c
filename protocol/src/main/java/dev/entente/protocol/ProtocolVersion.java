package dev.entente.protocol;

/**
 * The session protocol's version. Peers must speak the same one: a Hello with another version is
 * refused. Bump it on any change a peer of the previous version would misread.
 */
public final class ProtocolVersion {
    public static final int CURRENT = 1;

    private ProtocolVersion() {
    }
}
