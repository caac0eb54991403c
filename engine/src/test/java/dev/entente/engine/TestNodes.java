package dev.entente.engine;

import dev.entente.engine.session.InProcessReplication;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/** Engines on temporary RocksDB directories with a wall clock the test moves. */
final class TestNodes implements AutoCloseable {
    final AtomicLong now = new AtomicLong(1_800_000_000_000L);
    private final Path root;
    private final List<Engine> open = new ArrayList<>();
    private final Random random;
    private int counter;

    TestNodes(Path root) {
        this(root, 42);
    }

    TestNodes(Path root, long seed) {
        this.root = root;
        this.random = new Random(seed);
    }

    Engine open(String name) {
        return open(name, b -> b);
    }

    Engine open(String name, java.util.function.UnaryOperator<EngineOptions.Builder> tune) {
        EngineOptions.Builder b = EngineOptions.builder(root.resolve(name)).wallClock(now::get).random(random)
                .window(Duration.ofDays(7)).blockCacheBytes(8 << 20).writeBufferBytes(4 << 20);
        Engine e = Engine.open(tune.apply(b).build());
        open.add(e);
        counter++;
        return e;
    }

    /** Closes an engine so it can be reopened. */
    void close(Engine e) {
        open.remove(e);
        e.close();
    }

    Path dir(String name) {
        return root.resolve(name);
    }

    void advance(Duration d) {
        now.addAndGet(d.toMillis());
    }

    static InProcessReplication.PullResult pull(Engine consumer, Engine supplier) {
        return InProcessReplication.pull(consumer, "consumer", supplier, "supplier", 50);
    }

    /** Pulls both ways between every pair until nothing moves. */
    static void converge(Engine... nodes) {
        for (int round = 0; round < 3; round++) {
            for (Engine a : nodes) {
                for (Engine b : nodes) {
                    if (a != b) {
                        pull(a, b);
                    }
                }
            }
        }
    }

    static Schema people() {
        return Schema.builder().unique("name").set("memberof").build();
    }

    @Override
    public void close() throws Exception {
        for (Engine e : open) {
            e.close();
        }
        open.clear();
        if (Files.exists(root)) {
            DataDirectory.deleteTree(root);
        }
    }
}
