package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.engine.Attributes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OperatorRefreshTest {

    @Test
    void aRefreshFromASupplierThatMustBeRefreshedItselfIsRefusedAndLeavesTheNodeInService(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            c.founder("a");
            c.joiner("b");
            c.start("a", List.of("b"), List.of());
            ReplicationNode b = c.start("b", List.of(), List.of("a"));
            c.awaitConvergence(Duration.ofSeconds(20));
            c.engine("a").markRefreshRequired("a test: a lags behind the domain");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.refreshFrom("b<-a", Duration.ofSeconds(30)));
            assertTrue(e.getMessage().contains("NOT_SERVING") || e.getMessage().contains("must be refreshed itself"), e.getMessage());
            assertTrue(e.getMessage().contains("left as it was"), e.getMessage());
            assertTrue(c.engine("b").refreshRequired().isEmpty(), "b is not left marked, waiting for a supplier that serves nobody");
            c.engine("b").create("people", Attributes.ofText("name", "still-writable"));
        }
    }
}
