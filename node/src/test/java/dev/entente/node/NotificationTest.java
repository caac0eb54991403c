package dev.entente.node;

import dev.entente.engine.session.AgreementStatus;
import dev.entente.engine.session.SyncResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.engine.Attributes;
import dev.entente.engine.Engine;
import dev.entente.engine.Transaction;
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
            Engine a = followingPair(c);
            for (int i = 0; i < 20; i++) {
                UUID id = a.create("people", Attributes.ofText("name", "n" + i));
                long start = System.nanoTime();
                Cluster.await("entry " + i + " to reach b without waiting for the 5-minute interval", Duration.ofSeconds(10),
                        () -> c.engine("b").get("people", id).isPresent());
                assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos());
            }
        }
    }

    @Test
    void aBurstOfCommitsIsFetchedInFewPullsAndItsLastCommitIsNotLeftForTheInterval(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            Engine a = followingPair(c);
            long pullsBefore = c.nodes.get("b").status().get(0).pulls();
            UUID last = null;
            for (int i = 0; i < 500; i++) {
                Transaction tx = a.transaction();
                last = a.newEntryId();
                tx.create("people", last, Attributes.ofText("name", "burst-" + i));
                tx.commit();
            }
            UUID lastId = last;
            Cluster.await("the burst's last entry to reach b without waiting for the 5-minute interval", Duration.ofSeconds(10),
                    () -> c.engine("b").get("people", lastId).isPresent());
            c.awaitConvergence(Duration.ofSeconds(10));
            long pulls = c.nodes.get("b").status().get(0).pulls() - pullsBefore;
            assertTrue(pulls < 250, "500 commits in a burst took " + pulls + " pulls: notifications are not coalesced");
            assertEquals(500, c.engine("b").digest().entries());
        }
    }

    @Test
    void syncRetriesAnAgreementInBackoffAtOnce(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            // a backoff of 15 to 30 s after the first failure: the test must not wait it out; a short
            // handshake timeout, for a connection accepted by a supplier that is shutting down
            c.options = new TransportOptions(16 << 20, 1000, 4L << 20, 4, Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(60));
            Engine a = followingPair(c);
            c.stop("a");
            Cluster.await("b's agreement to back off", Duration.ofSeconds(20),
                    () -> c.nodes.get("b").status().get(0).state() == AgreementStatus.State.BACKOFF);
            UUID written = a.create("people", Attributes.ofText("name", "while-b-was-cut-off"));
            c.start("a", List.of("b"), List.of());
            long start = System.nanoTime();
            List<SyncResult> results = c.nodes.get("b").syncAll(Duration.ofSeconds(10));
            assertTrue(results.get(0).ok(), results.toString());
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos());
            assertTrue(c.engine("b").get("people", written).isPresent(), "the sync pulled what a wrote meanwhile");
        }
    }

    /** a, and b following it with a 5-minute pull interval: only notifications make b pull soon. */
    private static Engine followingPair(Cluster c) throws Exception {
        c.interval = Duration.ofMinutes(5);
        Engine a = c.founder("a");
        c.joiner("b");
        c.start("a", List.of("b"), List.of());
        c.start("b", List.of("a"), List.of("a"));
        c.awaitConvergence(Duration.ofSeconds(20));
        Cluster.await("b to follow a", Duration.ofSeconds(10),
                () -> c.nodes.get("b").status().get(0).state() == AgreementStatus.State.IDLE);
        return a;
    }
}
