package dev.entente.engine;

import java.util.Map;

/**
 * Whether a supplier may send a consumer the changes it lacks, and, when it may not, which of the
 * two must be refreshed. The supplier's RUV and the consumer's say what each lacks:
 * <ul>
 *   <li>the consumer lacks changes the supplier trimmed (its {@code max} of some origin is below
 *   the supplier's {@code trimmed}): it cannot be brought up to date change by change;
 *   <li>the supplier lacks changes the consumer trimmed: it cannot be either.
 * </ul>
 * When only one side lacks, and nothing says otherwise, that side is refreshed. When both lack
 * (a split longer than the window), the pair alone cannot tell who was cut off, so each side's
 * contact with the rest of the domain decides: a node that completed an exchange with some third
 * node within the window is current. Only a side cut off while the other stayed current pays;
 * where both stayed current (the domain split in two groups) or the evidence is the same on both
 * sides, nobody is marked and replication between them stops ({@link Verdict#SPLIT}) until an
 * operator chooses. A current supplier is never marked on the word of a consumer: its own
 * contact decides.
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
     * @param agedOutHlc origins aged out by then on either side (no record left, newest change older
     *     than two windows: see {@link WindowTrimmer#agedOut}) are no evidence: one side may have
     *     forgotten them before the other; the supplier's own origin never ages out here
     */
    static Decision decide(OriginId supplierOrigin, Ruv supplier, Ruv consumer, String consumerName, Evidence evidence, long agedOutHlc) {
        String consumerLacks = null;
        for (Map.Entry<OriginId, Ruv.Range> e : supplier.origins().entrySet()) {
            long have = consumer.max(e.getKey());
            boolean agedOut = !e.getKey().equals(supplierOrigin) && WindowTrimmer.agedOut(e.getValue(), agedOutHlc);
            if (e.getValue().trimmed() > have && !agedOut) {
                consumerLacks = "consumer '" + consumerName + "' has origin " + e.getKey() + " up to " + have
                        + ", but this supplier has trimmed that origin's changes up to " + e.getValue().trimmed() + " (older than the window)";
                break;
            }
        }
        String supplierLacks = null;
        for (Map.Entry<OriginId, Ruv.Range> e : consumer.origins().entrySet()) {
            if (e.getValue().trimmed() > supplier.max(e.getKey()) && !WindowTrimmer.agedOut(e.getValue(), agedOutHlc)) {
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
        if (s != c) {
            // One side stayed in contact with the domain, the other did not: the cut-off one pays.
            return s ? consumerRefreshes(consumerLacks != null ? consumerLacks : supplierLacks, consumerName, true)
                    : supplierRefreshes(supplierLacks != null ? supplierLacks : consumerLacks, consumerName, true);
        }
        if (consumerLacks != null && supplierLacks != null || s) {
            return new Decision(Verdict.SPLIT, "SPLIT: " + (supplierLacks != null ? supplierLacks : consumerLacks)
                    + (consumerLacks != null && supplierLacks != null ? "; and " + consumerLacks : "")
                    + (s ? "; both this supplier and consumer '" + consumerName + "' stayed in contact with other nodes through it"
                    : "; neither this supplier nor consumer '" + consumerName + "' was in contact with other nodes within the window")
                    + ", so nothing tells which side was cut off. Replication between them stops: an operator chooses which side to keep"
                    + " and refreshes the other from it (entente refresh --from), losing that side's changes that no other node holds");
        }
        return consumerLacks != null ? consumerRefreshes(consumerLacks, consumerName, false) : supplierRefreshes(supplierLacks, consumerName, false);
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
