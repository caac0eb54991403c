package dev.entente.node;

import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Objects;

/**
 * A node's configured pull from one supplier.
 *
 * @param name how logs and status name it
 * @param supplier the supplier's replication address
 * @param supplierCertificate the supplier's pinned certificate
 * @param mode {@code PULL}, or {@code MUTUAL_PULL}: the supplier is asked to pull from this node
 *     too, over its own agreement back (see docs/protocol.md)
 * @param interval how often to pull when no notification came
 * @param automaticRefresh refresh from this supplier when it says this node must be refreshed
 */
public record Agreement(String name, InetSocketAddress supplier, X509Certificate supplierCertificate, Mode mode,
                        Duration interval, boolean automaticRefresh) {

    public enum Mode { PULL, MUTUAL_PULL }

    public Agreement {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(supplier, "supplier");
        Objects.requireNonNull(supplierCertificate, "supplierCertificate");
        Objects.requireNonNull(mode, "mode");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("agreement '" + name + "': interval must be positive, got " + interval);
        }
    }

    public static Agreement pull(String name, InetSocketAddress supplier, X509Certificate certificate) {
        return new Agreement(name, supplier, certificate, Mode.PULL, Duration.ofSeconds(5), true);
    }
}
