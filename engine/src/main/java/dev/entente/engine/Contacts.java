package dev.entente.engine;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * When this node last completed an exchange with each peer (a pull served or applied, a
 * refresh): the evidence of {@link LaggingRule} that a node stayed in contact with its domain.
 * Kept in memory and written to the store's meta at most once a second, so that a node that
 * restarts still knows how current it was.
 */
final class Contacts {
    private static final long PERSIST_EVERY_MILLIS = 1000;
    private final Map<String, Long> last = new HashMap<>();
    /** When the contacts were last written (0: not since this engine opened). */
    private long persisted;

    /** Reads what {@link #encode} wrote: one {@code millis peer} per line. */
    static Contacts decode(byte[] stored) {
        Contacts c = new Contacts();
        if (stored != null) {
            for (String line : new String(stored, StandardCharsets.UTF_8).split("\n")) {
                int space = line.indexOf(' ');
                if (space > 0) {
                    try {
                        c.last.put(line.substring(space + 1), Long.parseLong(line.substring(0, space)));
                    } catch (NumberFormatException e) {
                        // A line this version cannot read is no evidence: skip it.
                    }
                }
            }
        }
        return c;
    }

    synchronized byte[] encode() {
        StringBuilder sb = new StringBuilder();
        last.forEach((peer, millis) -> sb.append(millis).append(' ').append(peer.replace('\n', ' ')).append('\n'));
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Notes an exchange with {@code peer} at {@code millis}; true when it is time to persist. */
    synchronized boolean note(String peer, long millis) {
        last.merge(peer, millis, Math::max);
        if (millis - persisted >= PERSIST_EVERY_MILLIS) {
            persisted = millis;
            return true;
        }
        return false;
    }

    /** The newest exchange with a peer other than {@code peer}, if any. */
    synchronized OptionalLong lastExcept(String peer) {
        long newest = Long.MIN_VALUE;
        for (Map.Entry<String, Long> e : last.entrySet()) {
            if (!e.getKey().equals(peer)) {
                newest = Math.max(newest, e.getValue());
            }
        }
        return newest == Long.MIN_VALUE ? OptionalLong.empty() : OptionalLong.of(newest);
    }
}
