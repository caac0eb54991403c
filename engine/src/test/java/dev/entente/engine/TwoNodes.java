package dev.entente.engine;

import dev.entente.engine.session.InProcessReplication;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * Base of tests that start from two nodes of one domain: {@code a} defines the {@code people}
 * namespace and {@code b} joins by refreshing from it.
 */
abstract class TwoNodes {
    @TempDir
    Path dir;
    TestNodes nodes;
    Engine a;
    Engine b;

    /** The changelog window of both nodes. */
    Duration window() {
        return EngineOptions.DEFAULT_WINDOW;
    }

    Engine open(String name) {
        return nodes.open(name, o -> o.window(window()));
    }

    @BeforeEach
    void startTwoNodes() {
        nodes = new TestNodes(dir);
        a = open("a");
        b = open("b");
        a.transaction().defineNamespace("people", TestNodes.people()).commit();
        InProcessReplication.refresh(b, "b", a, "a", 1 << 20);
    }

    @AfterEach
    void closeNodes() throws Exception {
        nodes.close();
    }
}
