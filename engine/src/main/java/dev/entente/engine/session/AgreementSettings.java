package dev.entente.engine.session;

import java.time.Duration;
import java.util.Objects;

/**
 * What a consumer agreement's sessions and schedule need of its configuration.
 *
 * @param name how logs and status name the agreement
 * @param supplier how logs and status name the supplier (its address)
 * @param interval how often to pull when no notification came
 * @param automaticRefresh refresh from this supplier when this node must be refreshed
 * @param mutualPort for a mutual-pull agreement, the port at which the supplier is asked to pull
 *     back from this node; 0 otherwise
 * @param supplierName the supplier's node name as its pinned certificate gives it: its Hello must
 *     give the same, and logs and contacts use it; null where no transport authenticates the
 *     supplier (then its Hello's name, which must look like a node name)
 */
public record AgreementSettings(String name, String supplier, Duration interval, boolean automaticRefresh, int mutualPort,
                                String supplierName) {
    public AgreementSettings {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(supplier, "supplier");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("agreement '" + name + "': interval must be positive, got " + interval);
        }
    }

    /** Settings for a supplier no transport authenticates. */
    public AgreementSettings(String name, String supplier, Duration interval, boolean automaticRefresh, int mutualPort) {
        this(name, supplier, interval, automaticRefresh, mutualPort, null);
    }
}
