package dev.entente.engine;

import dev.entente.engine.clock.OriginId;
import java.util.Map;

/**
 * Whether a supplier may send a consumer the changes it lacks, and, when it may not, which of the
 * two must be refreshed. The supplier's RUV and the consumer's say what each lacks:
 * <ul>
 *   <li>the consumer lacks changes the supplier trimmed (its {@code max} of some origin is below
 *   the supplier's {@code trimmed}): it cannot be brought up to date change by change;
 *   <li>the supplier lacks changes the consumer trimmed: it cannot be either.
 * </ul>
 * Each side's contact with the rest of the domain is weighed too: a node that completed an
 * exchange with some third node within the window is current. When both lack (a split longer than
 * the window), only a side cut off while the other stayed current pays; when only one side lacks,
 * it pays unless it is itself current (then either the other side is the one cut off, or the
 * domain split in two groups). Otherwise nobody is marked and replication between the two stops
 * ({@link Verdict#SPLIT}) until an operator chooses. A side that is current is never refreshed on
 * the pair's word, and a supplier never on the consumer's word about contact: a consumer claiming
 * contact can only turn "the consumer pays" into SPLIT.
 */
public final class LaggingRule {
    private LaggingRule() {
    }

    /** What the supplier does. */
    public enum Verdict { SUPPLY, CONSUMER_REFRESHES, SUPPLIER_REFRESHES, SPLIT }

    /**
     * Each side's contact with the rest of the domain: whether it completed an exchange with a
     * node other than the other one within the window.
     */
    public record Evidence(boolean supplierCurrent, boolean consumerCurrent) {
        /** Nothing known of either side: the pair decides alone. */
        public static final Evidence NONE = new Evidence(false, false);
    }

    /** @param reason what a person reads, naming the origin and the positions that decided */
    public record Decision(Verdict verdict, String reason) {
    }

    /**
     * Every origin counts, however long ago it made its last change: an origin retired by a
     * refresh may have reached one part of the domain and not another, and only its RUV entry
     * tells the part that lacks it.
     */
    static Decision decide(Ruv supplier, Ruv consumer, String consumerName, Evidence evidence) {
        String consumerLacks = null;
        for (Map.Entry<OriginId, Ruv.Range> e : supplier.origins().entrySet()) {
            long have = consumer.max(e.getKey());
            if (e.getValue().trimmed() > have) {
                consumerLacks = "consumer '" + consumerName + "' has origin " + e.getKey() + " up to " + have
                        + ", but this supplier has trimmed that origin's changes up to " + e.getValue().trimmed() + " (older than the window)";
                break;
            }
        }
        String supplierLacks = null;
        for (Map.Entry<OriginId, Ruv.Range> e : consumer.origins().entrySet()) {
            if (e.getValue().trimmed() > supplier.max(e.getKey())) {
                supplierLacks = "consumer '" + consumerName + "' has already trimmed changes of origin " + e.getKey() + " up to "
                        + e.getValue().trimmed() + " that this node never received (it has that origin only up to " + supplier.max(e.getKey()) + ")";
                break;
            }
        }
        if (consumerLacks == null && supplierLacks == null) {
            return new Decision(Verdict.SUPPLY, "");
        }
        boolean s = evidence.supplierCurrent();
        boolean c = evidence.consumerCurrent();
        if (consumerLacks != null && supplierLacks != null) {
            if (s != c) {
                // Both lack: the one that stayed in contact with the domain keeps its content.
                return s ? consumerRefreshes(consumerLacks, consumerName, true) : supplierRefreshes(supplierLacks, consumerName, true);
            }
            return split(consumerLacks, supplierLacks, consumerName, s);
        }
        // One side lacks: it is the one to refresh, unless the contact says the other was the one
        // cut off (then its content, which the lacking side never got, must not be thrown away
        // on the pair's word) or both stayed current (two groups): then an operator chooses.
        if (consumerLacks != null) {
            return c ? split(consumerLacks, null, consumerName, s) : consumerRefreshes(consumerLacks, consumerName, false);
        }
        return s ? split(null, supplierLacks, consumerName, c) : supplierRefreshes(supplierLacks, consumerName, false);
    }

    private static Decision split(String consumerLacks, String supplierLacks, String consumerName, boolean bothCurrent) {
        return new Decision(Verdict.SPLIT, "SPLIT: " + (supplierLacks != null ? supplierLacks : consumerLacks)
                + (consumerLacks != null && supplierLacks != null ? "; and " + consumerLacks : "")
                + (bothCurrent ? "; both this supplier and consumer '" + consumerName + "' stayed in contact with other nodes through it"
                : "; the contact of this supplier and of consumer '" + consumerName + "' with other nodes does not say that the side lacking"
                + " changes is the one that was cut off")
                + ", so nothing tells which side to keep. Replication between them stops: an operator chooses which side to keep"
                + " and refreshes the other from it (entente refresh --from), losing that side's changes that no other node holds");
    }

    private static Decision consumerRefreshes(String why, String consumerName, boolean byContact) {
        return new Decision(Verdict.CONSUMER_REFRESHES, "REFRESH_REQUIRED: " + why
                + (byContact ? "; this supplier stayed in contact with other nodes and consumer '" + consumerName + "' did not, so it was cut off" : "")
                + ". Refresh the consumer from a member");
    }

    private static Decision supplierRefreshes(String why, String consumerName, boolean byContact) {
        return new Decision(Verdict.SUPPLIER_REFRESHES, why
                + (byContact ? "; consumer '" + consumerName + "' stayed in contact with other nodes and this node did not" : "")
                + ": this node was cut off longer than the window");
    }
}
