package dev.entente.engine;

/**
 * A logical digest of the replicated state: namespaces, entries (live versions and their values,
 * conflict versions), tombstones and conflict flags; nothing node-local. Converged nodes have equal
 * digests; any difference in replicated state gives a different one.
 *
 * @param hex SHA-256 of the canonical encoding, in hex
 * @param entries live entry ids (conflicted ones included)
 * @param tombstones deleted entry ids not yet reaped
 * @param conflicts entries carrying a conflict flag
 */
public record Digest(String hex, long entries, long tombstones, long conflicts) {
    @Override
    public String toString() {
        return hex.substring(0, 16) + " (" + entries + " entries, " + tombstones + " tombstones, " + conflicts + " conflicts)";
    }
}
