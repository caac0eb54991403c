package dev.entente.node.example;

import dev.entente.config.ConfigLoader;
import dev.entente.config.NodeConfig;
import dev.entente.engine.AttributeChange;
import dev.entente.engine.Attributes;
import dev.entente.engine.ChangeFeed;
import dev.entente.engine.Engine;
import dev.entente.engine.Entry;
import dev.entente.engine.Schema;
import dev.entente.node.EntenteNode;
import dev.entente.node.NodeIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** An identity server embedding an Entente node: it writes, reads and follows the change feed. */
public final class EmbeddingExample {
    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("embedded-node");

        // Once, when the server is installed (what `entente init` does): the node's identity.
        NodeIdentity.create(EntenteNode.identityDirectory(dir), "idm-1", NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC());

        // The configuration; a server would load it from a file with ConfigLoader.load(path).
        NodeConfig config = ConfigLoader.parse("""
                name: idm-1
                dataDirectory: .
                replication:
                  listen: 127.0.0.1:0
                admin:
                  listen: 127.0.0.1:0
                  token: change-me-to-a-long-random-secret
                engine:
                  window: 7d
                """, true, dir, "embedded configuration");

        try (EntenteNode node = EntenteNode.start(config)) {
            Engine engine = node.engine();
            engine.transaction()
                    .defineNamespace("people", Schema.builder().unique("name").set("memberof").build())
                    .commit();

            // Follow every applied change, local or replicated, with a cursor that survives restarts.
            CountDownLatch seen = new CountDownLatch(3);
            try (ChangeFeed.Subscription feed = engine.feed().subscribe("search-index", event -> {
                System.out.println("change " + event.sequence() + ": " + event.changes());
                seen.countDown();
            })) {
                UUID alice = engine.create("people", Attributes.ofText("name", "alice", "mail", "alice@example.org"));
                engine.modify("people", alice, AttributeChange.add("memberof", "admins"));

                Entry e = engine.get("people", alice).orElseThrow();
                System.out.println(e.text("name") + " is in " + e.attributes().texts("memberof"));

                if (!seen.await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the change feed did not deliver");
                }
            }
            System.out.println("serving replication on " + node.replication().address() + ", origin " + engine.originId());
        }
    }
}
