package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.engine.Attributes;
import dev.entente.engine.Engine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A supplier tells its following consumers when it commits, so they pull at once, not at the next interval. */
class NotificationTest {

    @Test
    void aCommitReachesAFollowingConsumerLongBeforeItsPullInterval(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            c.interval = Duration.ofMinutes(5);
            Engine a = c.founder("a");
            c.joiner("b");
            c.start("a", List.of("b"), List.of());
            c.start("b", List.of("a"), List.of("a"));
            c.awaitConvergence(Duration.ofSeconds(20));
            Cluster.await("b to follow a", Duration.ofSeconds(10),
                    () -> c.nodes.get("b").status().get(0).state() == AgreementStatus.State.IDLE);
            for (int i = 0; i < 20; i++) {
                UUID id = a.create("people", Attributes.ofText("name", "n" + i));
                long start = System.nanoTime();
                Cluster.await("entry " + i + " to reach b without waiting for the 5-minute interval", Duration.ofSeconds(10),
                        () -> c.engine("b").get("people", id).isPresent());
                assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos());
            }
        }
    }
}
