package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.entente.config.NodeConfig;
import dev.entente.engine.EngineOptions;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The configuration module knows nothing of the engine (it depends on Jackson alone), so the
 * engine's settings have their defaults written twice: in {@link EngineOptions.Builder} for an
 * embedder that builds options itself, and in {@link NodeConfig.EngineSettings#DEFAULTS} for a
 * node.yaml that leaves them out. They must be the same defaults.
 */
class DefaultsTest {
    @Test
    void aNodeConfiguredWithDefaultsRunsTheEngineOnTheEnginesOwnDefaults() {
        EngineOptions engine = EngineOptions.builder(Path.of("unused")).build();
        NodeConfig.EngineSettings node = NodeConfig.EngineSettings.DEFAULTS;
        assertEquals(engine.window(), node.window(), "window");
        assertEquals(engine.maxClockSkew(), node.maxClockSkew(), "maxClockSkew");
        assertEquals(engine.syncWrites(), node.syncWrites(), "syncWrites");
        assertEquals(engine.blockCacheBytes(), node.blockCacheBytes(), "blockCacheBytes");
        assertEquals(engine.writeBufferBytes(), node.writeBufferBytes(), "writeBufferBytes");
        assertEquals(engine.maxValueBytes(), node.maxValueBytes(), "maxValueBytes");
        assertEquals(engine.maxTransactionBytes(), node.maxTransactionBytes(), "maxTransactionBytes");
    }
}
