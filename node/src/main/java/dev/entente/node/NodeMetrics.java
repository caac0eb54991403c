package dev.entente.node;

import dev.entente.engine.session.AgreementStatus;
import dev.entente.engine.Digest;
import dev.entente.engine.Engine;
import dev.entente.engine.clock.HybridClock;
import dev.entente.engine.clock.OriginId;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.HashSet;
import java.util.Set;

/**
 * The node's metrics, in Prometheus text at {@code /metrics} (names in docs/operations.md).
 * Counts that need a scan of the store (entries, tombstones, conflicts) come from a digest taken
 * at most once a minute.
 */
final class NodeMetrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final EntenteNode node;
    private final Set<OriginId> origins = new HashSet<>();
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private volatile Digest digest;
    private volatile long digestAt;

    NodeMetrics(EntenteNode node) {
        this.node = node;
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        var engine = node.engine();
        FunctionCounter.builder("entente.changes.committed", engine, e -> e.feed().lastSequence())
                .description("changes committed on this node, local and applied from peers").register(registry);
        FunctionCounter.builder("entente.changes.written", engine, Engine::localCommits)
                .description("local transactions committed on this node since it started").register(registry);
        Gauge.builder("entente.changelog.records", engine, e -> e.changelogRecordsEstimate())
                .description("changelog records held (RocksDB's estimate)").register(registry);
        Gauge.builder("entente.refresh.required", engine, e -> e.refreshRequired().isPresent() ? 1 : 0)
                .description("1 while this node must be refreshed").register(registry);
        Gauge.builder("entente.entries", this, m -> m.digest().entries()).description("live entries (from a digest at most a minute old)").register(registry);
        Gauge.builder("entente.tombstones", this, m -> m.digest().tombstones()).description("tombstones not yet reaped").register(registry);
        Gauge.builder("entente.conflicts", this, m -> m.digest().conflicts()).description("entries with a conflict flag").register(registry);
        for (AgreementStatus s : node.replication().status()) {
            register(s.name());
        }
    }

    private void register(String agreement) {
        var r = node.replication();
        FunctionCounter.builder("entente.agreement.changes.applied", r, x -> find(x, agreement).changesApplied())
                .tag("agreement", agreement).description("changes applied from this agreement's supplier").register(registry);
        FunctionCounter.builder("entente.agreement.batches", r, x -> find(x, agreement).batches()).tag("agreement", agreement).register(registry);
        FunctionCounter.builder("entente.agreement.bytes", r, x -> find(x, agreement).bytes()).tag("agreement", agreement).register(registry);
        FunctionCounter.builder("entente.agreement.refreshes", r, x -> find(x, agreement).refreshes()).tag("agreement", agreement).register(registry);
        FunctionCounter.builder("entente.agreement.pulls", r, x -> find(x, agreement).pulls()).tag("agreement", agreement)
                .description("incremental pulls completed").register(registry);
        FunctionCounter.builder("entente.agreement.pull.seconds", r, x -> find(x, agreement).pullMillis() / 1000.0).tag("agreement", agreement)
                .description("time spent in completed pulls: divided by entente_agreement_pulls_total, a session's mean duration").register(registry);
        Gauge.builder("entente.agreement.lag.seconds", r, x -> find(x, agreement).lagMillis() / 1000.0).tag("agreement", agreement)
                .description("age of the newest change applied, when it was applied").register(registry);
        Gauge.builder("entente.agreement.up", r, x -> {
            var st = find(x, agreement).state();
            return st == AgreementStatus.State.IDLE || st == AgreementStatus.State.PULLING ? 1 : 0;
        }).tag("agreement", agreement).description("1 while the agreement is connected and replicating").register(registry);
    }

    private static AgreementStatus find(ReplicationNode r, String agreement) {
        return r.status().stream().filter(s -> s.name().equals(agreement)).findFirst()
                .orElse(new AgreementStatus(agreement, "", AgreementStatus.State.STOPPED, null, null, 0, 0, 0, 0, 0, 0, 0, null));
    }

    private Digest digest() {
        long now = System.nanoTime();
        Digest d = digest;
        if (d == null || now - digestAt > 60_000_000_000L) {
            d = node.engine().digest();
            digest = d;
            digestAt = now;
        }
        return d;
    }

    /** The metrics in Prometheus text format. */
    String scrape() {
        for (var s : node.replication().status()) {
            if (registry.find("entente.agreement.up").tag("agreement", s.name()).gauge() == null) {
                register(s.name());
            }
        }
        for (OriginId o : node.engine().ruv().origins().keySet()) {
            if (origins.add(o)) {
                Gauge.builder("entente.ruv.max.seconds", node.engine(), e -> HybridClock.physicalMillis(e.ruv().max(o)) / 1000.0)
                        .tag("origin", o.toString()).description("time of the newest change of this origin applied here").register(registry);
            }
        }
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
