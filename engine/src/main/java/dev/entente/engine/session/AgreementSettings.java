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
 */
public record AgreementSettings(String name, String supplier, Duration interval, boolean automaticRefresh, int mutualPort) {
    public AgreementSettings {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(supplier, "supplier");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("agreement '" + name + "': interval must be positive, got " + interval);
        }
    }
}
