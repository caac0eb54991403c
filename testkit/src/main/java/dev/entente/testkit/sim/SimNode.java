package dev.entente.testkit.sim;

import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.Ruv;
import dev.entente.engine.session.ConsumerAgreement;
import dev.entente.protocol.SessionMessages.Frame;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;

/** One simulated node: a real engine on its own RocksDB directory, with a skewable clock. */
final class SimNode {

    /** One of the node's agreements, with what the simulator has seen of its failures and successes. */
    static final class Watched {
        private final ConsumerAgreement agreement;
        final int supplier;
        long successes;
        long failures;
        long failuresInARow;

        Watched(ConsumerAgreement agreement, int supplier) {
            this.agreement = agreement;
            this.supplier = supplier;
        }

        ConsumerAgreement agreement() {
            return agreement;
        }
    }

    final int index;
    final String name;
    final Path dir;
    final boolean hub;
    final Random random;
    long skew;
    Engine engine;
    /** The RUV when the node went down, for loss accounting while it is down. */
    Ruv ruvWhileDown = Ruv.EMPTY;
    /** The highest HLC this node's clock has shown: it must never show less. */
    long highestHlc;
    /** The highest HLC of a change this node committed or applied, which must survive a crash. */
    long durableHlc;
    /** Bumped at each crash: timers and frames of an earlier incarnation are dropped. */
    int incarnation;
    /** The node's running agreements (none while it is down). */
    final List<Watched> agreements = new ArrayList<>();
    /**
     * The highest change of each origin this node's RUV has said it holds since its last refresh
     * (when it became a clone of its supplier's): the RUV may never say less (invariant 14).
     */
    final java.util.Map<dev.entente.engine.clock.OriginId, Long> covered = new java.util.HashMap<>();
    /** The batch frames that changed this node's RUV: none may do so twice. */
    final Set<Frame> appliedFrames = Collections.newSetFromMap(new IdentityHashMap<>());

    SimNode(int index, Path dir, boolean hub, long seed) {
        this.index = index;
        this.name = "n" + index;
        this.dir = dir;
        this.hub = hub;
        this.random = new Random(seed);
    }

    void cover(Ruv ruv) {
        ruv.origins().forEach((o, r) -> covered.merge(o, r.max(), Math::max));
    }

    /** Whether this node holds that change. */
    boolean covers(dev.entente.engine.clock.Cid cid) {
        if (engine != null) {
            cover(engine.ruv());
        }
        return covered.getOrDefault(cid.origin(), 0L) >= cid.hlc();
    }

    boolean up() {
        return engine != null;
    }

    boolean lagging() {
        return engine != null && engine.refreshRequired().isPresent();
    }

    Ruv ruv() {
        return engine != null ? engine.ruv() : ruvWhileDown;
    }

    EngineOptions options(java.util.function.LongSupplier clock, java.time.Duration window) {
        return EngineOptions.builder(dir).wallClock(clock).random(random).window(window)
                .maxClockSkew(java.time.Duration.ofSeconds(2)).blockCacheBytes(1 << 20).writeBufferBytes(1 << 20).build();
    }
}
