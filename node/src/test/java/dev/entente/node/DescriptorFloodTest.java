package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Descriptor exhaustion on a real node process run under a small descriptor limit: a flood of
 * idle connections on both ports cannot take the descriptors the store needs, and a store that
 * cannot write all the same (a node configured past its limit) fails health and stops for its
 * service manager to restart it, with every acknowledged write kept.
 */
class DescriptorFloodTest {
    private static final String BLOB = "x".repeat(64_000);

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static int[] init(Path a, String extra) throws Exception {
        int replication = freePort();
        int admin = freePort();
        CliTest.cli("init", "--data-dir", a.toString(), "--name", "a", "--new-domain", "--listen", "127.0.0.1:" + replication,
                "--admin-listen", "127.0.0.1:" + admin);
        Files.writeString(a.resolve("node.yaml"), Files.readString(a.resolve("node.yaml")) + extra);
        return new int[] {replication, admin};
    }

    /**
     * Starts {@code count} idle connections at once, without waiting for them: those beyond the
     * node's limits wait in its backlog or are dropped by the kernel, as in a real flood.
     */
    private static void flood(int port, int count, List<SocketChannel> held) throws IOException {
        for (int i = 0; i < count; i++) {
            SocketChannel s = SocketChannel.open();
            s.configureBlocking(false);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            held.add(s);
        }
    }

    private static void closeQuietly(SocketChannel s) {
        try {
            s.close();
        } catch (IOException e) {
            // a test socket: closing is all that matters
        }
    }

    private static String create(NodeRun n, String name) {
        String id = UUID.randomUUID().toString();
        NodeRun.Reply r = n.call("POST", "/v1/namespaces/people/entries", "{\"id\": \"" + id + "\", \"attrs\": {\"name\": \"" + name
                + "\", \"blob\": \"" + BLOB + "\"}}");
        return r.status() == 201 ? id : r.status() + " " + r.body();
    }

    @Test
    void aFloodOfIdleConnectionsOnBothPortsLeavesTheStoreItsDescriptors(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        int[] ports = init(a, "engine:\n  writeBuffer: 1MiB\n");
        List<SocketChannel> held = new ArrayList<>();
        // 1,024 descriptors: the node's 128 admin connections, 256 replication connections and
        // the store's files fit, with room for the JVM's own.
        try (NodeRun n = NodeRun.start(a, ports[1], 1024)) {
            assertTrue(n.awaitPrinted("replicating on", Duration.ofSeconds(60)), n.printed());
            assertEquals(200, n.call("PUT", "/v1/namespaces/people", "{}").status());
            List<String> written = new ArrayList<>();
            try {
                flood(ports[1], 2000, held);
                flood(ports[0], 2000, held);
                // Through the connection opened before the flood: writes go on, each 64 KB, so
                // the store flushes and opens new files while the flood lasts.
                for (int i = 0; i < 60; i++) {
                    String id = create(n, "during-" + i);
                    assertEquals(36, id.length(), "a write during the flood: " + id);
                    written.add(id);
                }
                assertEquals(200, n.call("GET", "/_status/check", null).status());
            } finally {
                held.forEach(DescriptorFloodTest::closeQuietly);
            }
            String printed = n.printed();
            assertFalse(printed.contains("Too many open files"), printed);
            assertFalse(printed.contains("the store cannot write"), printed);
            assertTrue(n.process.isAlive());
            assertEquals(200, n.call("GET", "/_status/check", null).status());
            for (String id : written) {
                assertEquals(200, n.call("GET", "/v1/namespaces/people/entries/" + id, null).status(), id);
            }
        }
    }

    @Test
    void aStoreThatCannotWriteFailsHealthAndTheNodeStopsForARestartKeepingEveryAcknowledgedWrite(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        // Configured past its limit: the admin server would hold more connections than the
        // process may open, so a flood takes the descriptors the store needs.
        int[] ports = init(a, "  maxConnections: 65536\nengine:\n  writeBuffer: 1MiB\n  stopAfterStoreFailure: 3s\n");
        List<String> acknowledged = new ArrayList<>();
        List<SocketChannel> held = new ArrayList<>();
        try (NodeRun n = NodeRun.start(a, ports[1], 400)) {
            assertTrue(n.awaitPrinted("replicating on", Duration.ofSeconds(60)), n.printed());
            assertTrue(n.printed().contains("the process may open 400 files and sockets"), "the start warns of the limit: " + n.printed());
            assertEquals(200, n.call("PUT", "/v1/namespaces/people", "{}").status());
            String refused = null;
            try {
                flood(ports[1], 1000, held);
                for (int i = 0; i < 300 && refused == null; i++) {
                    String id = create(n, "p" + i);
                    if (id.length() == 36) {
                        acknowledged.add(id);
                    } else {
                        refused = id;
                    }
                }
            } finally {
                held.forEach(DescriptorFloodTest::closeQuietly);
            }
            assertTrue(refused != null && refused.startsWith("503"), "a write was refused while the store could not write: " + refused);
            NodeRun.Reply health = n.call("GET", "/_status/check", null);
            assertTrue(health.status() == 503 || health.status() == 0, "health fails (or the node already stopped): " + health);
            // The flood is over, but RocksDB keeps a failed flush's error until it opens the
            // store again: the node stops for its service manager, and says why.
            assertEquals(Cli.EXIT_RESTART, n.awaitExit(Duration.ofSeconds(60)), n.printed());
            assertTrue(n.printed().contains("the store cannot write"), n.printed());
            assertTrue(n.printed().contains("stopping for a restart"), n.printed());
            assertFalse(n.printed().contains("exceptionCaught"), "failed accepts are logged as one line, not a trace a second: " + n.printed());
        }
        try (NodeRun n = NodeRun.start(a, ports[1], 0)) {
            assertTrue(n.awaitPrinted("replicating on", Duration.ofSeconds(60)), n.printed());
            assertEquals(200, n.call("GET", "/_status/check", null).status());
            for (String id : acknowledged) {
                assertEquals(200, n.call("GET", "/v1/namespaces/people/entries/" + id, null).status(), "acknowledged " + id + " survives");
            }
            assertEquals(36, create(n, "after").length(), "writes work after the restart");
        }
    }
}
