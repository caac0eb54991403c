package dev.entente.testkit.sim;

import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.Ruv;
import dev.entente.engine.SnapshotImport;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/** One simulated node: a real engine on its own RocksDB directory, with a skewable clock. */
final class SimNode {

    /** The consumer side of an incremental pull in progress. */
    static final class PullSession {
        final int supplier;

        PullSession(int supplier) {
            this.supplier = supplier;
        }
    }

    /** The consumer side of a refresh in progress. */
    static final class RefreshSession {
        final long id;
        final int supplier;
        int nextChunk;
        SnapshotImport imp;

        RefreshSession(long id, int supplier) {
            this.id = id;
            this.supplier = supplier;
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
    final Map<Long, PullSession> pulls = new HashMap<>();
    RefreshSession refresh;
    boolean refreshScheduled;
    /**
     * The node that found this one lagging: it holds what this one lacks, so it is the one to
     * refresh from (a refresh from a node that lacks the same changes would leave it lagging).
     */
    int refreshFrom = -1;

    SimNode(int index, Path dir, boolean hub, long seed) {
        this.index = index;
        this.name = "n" + index;
        this.dir = dir;
        this.hub = hub;
        this.random = new Random(seed);
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
