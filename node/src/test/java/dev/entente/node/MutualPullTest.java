package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.entente.engine.Attributes;
import dev.entente.engine.Engine;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A mutual-pull agreement, configured on one side only, replicates both ways. */
class MutualPullTest {

    @Test
    void aMutualPullAgreementReplicatesBothWays(@TempDir Path dir) throws Exception {
        try (Cluster c = new Cluster(dir)) {
            Engine a = c.founder("a");
            Engine b = c.joiner("b");
            c.mutual = true;
            ReplicationNode na = c.start("a", List.of("b"), List.of());
            ReplicationNode nb = ReplicationNode.start(b, c.identity("b"), new InetSocketAddress("127.0.0.1", 0), List.of(ConsumerPin.of("a", c.identity("a").certificate())),
                    List.of(new Agreement("b<->a", na.address(), c.identity("a").certificate(), Agreement.Mode.MUTUAL_PULL, Duration.ofSeconds(5), true)),
                    TransportOptions.DEFAULTS);
            c.nodes.put("b", nb);
            c.awaitConvergence(Duration.ofSeconds(20));
            UUID fromB = b.create("people", Attributes.ofText("name", "from-b"));
            Cluster.await("b's write to reach a over the mutual agreement", Duration.ofSeconds(10), () -> a.get("people", fromB).isPresent());
            UUID fromA = a.create("people", Attributes.ofText("name", "from-a"));
            Cluster.await("a's write to reach b", Duration.ofSeconds(10), () -> b.get("people", fromA).isPresent());
            c.awaitConvergence(Duration.ofSeconds(10));
            assertEquals(1, na.status().size(), "a started one agreement back to b");
        }
    }
}
