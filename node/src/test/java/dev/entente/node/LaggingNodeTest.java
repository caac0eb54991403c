package dev.entente.node;

import dev.entente.engine.session.AgreementStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.engine.Attributes;
import dev.entente.engine.Engine;
import dev.entente.protocol.SessionMessages;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node away for longer than the window is refused incremental replication and refreshes. */
class LaggingNodeTest {

    private static UUID lagBehind(Cluster c) throws Exception {
        Engine a = c.founder("a");
        c.joiner("b");
        c.reservePorts("a", "b");
        c.start("a", List.of("b"), List.of());
        c.start("b", List.of("a"), List.of("a"));
        c.awaitConvergence(Duration.ofSeconds(20));
        UUID doomed = a.create("people", Attributes.ofText("name", "doomed"));
        Cluster.await("b to get the entry", Duration.ofSeconds(10), () -> c.engine("b").get("people", doomed).isPresent());
        c.stop("b");
        a.delete("people", doomed);
        a.create("people", Attributes.ofText("name", "while-b-was-away"));
        Thread.sleep(2 * c.window.toMillis() + 300);
        assertEquals(1, a.trimWindow().tombstonesReaped());
        return doomed;
    }

    @Test
    void aLaggingConsumerIsRefusedAndRefreshesAutomatically(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            c.window = Duration.ofSeconds(1);
            UUID doomed = lagBehind(c);
            ReplicationNode b = c.start("b", List.of("a"), List.of("a"));
            c.awaitConvergence(Duration.ofSeconds(20));
            assertTrue(c.engine("b").get("people", doomed).isEmpty(), "the deleted entry did not come back");
            assertTrue(b.refusals().recent().stream().anyMatch(r -> r.code() == SessionMessages.Error.Code.REFRESH_REQUIRED
                    && r.reason().contains("trimmed")), b.refusals().recent().toString());
            Cluster.await("b to report its refresh", Duration.ofSeconds(5), () -> b.status().get(0).refreshes() == 1);
        }
    }

    @Test
    void withoutAutomaticRefreshTheLaggingNodeReportsItAndWaits(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            c.window = Duration.ofSeconds(1);
            lagBehind(c);
            c.automaticRefresh = false;
            ReplicationNode b = c.start("b", List.of("a"), List.of("a"));
            Cluster.await("b to report REFRESH_REQUIRED", Duration.ofSeconds(10),
                    () -> b.status().get(0).state() == AgreementStatus.State.REFRESH_REQUIRED);
            assertTrue(b.status().get(0).lastError().contains("automaticRefresh is off"), b.status().get(0).lastError());
            assertTrue(c.engine("b").refreshRequired().isPresent());
        }
    }
}
