package dev.entente.node;

import dev.entente.engine.Digest;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.Schema;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** Real nodes on 127.0.0.1 for tests: each with its own RocksDB directory, identity and TLS port. */
final class Cluster implements AutoCloseable {
    final Path root;
    final Map<String, NodeIdentity> identities = new LinkedHashMap<>();
    final Map<String, Engine> engines = new LinkedHashMap<>();
    final Map<String, ReplicationNode> nodes = new LinkedHashMap<>();
    final Map<String, Integer> ports = new LinkedHashMap<>();
    TransportOptions options = TransportOptions.DEFAULTS;
    Duration window = dev.entente.engine.EngineOptions.DEFAULT_WINDOW;
    boolean automaticRefresh = true;
    Duration interval = Duration.ofMillis(500);
    /** Whether the consumers a node pins may ask it to pull from them too. */
    boolean mutual;

    Cluster(Path root) {
        this.root = root;
    }

    NodeIdentity identity(String name) {
        return identities.computeIfAbsent(name, n -> NodeIdentity.create(root.resolve(n).resolve("identity"), n,
                NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC()));
    }

    Engine engine(String name) {
        return engines.computeIfAbsent(name, n -> Engine.open(EngineOptions.builder(root.resolve(n).resolve("data"))
                .blockCacheBytes(8 << 20).writeBufferBytes(8 << 20).window(window).build()));
    }

    /** The first node of a domain: defines the people namespace. */
    Engine founder(String name) {
        Engine e = engine(name);
        e.transaction().defineNamespace("people", Schema.builder().unique("name").set("memberof").build()).commit();
        return e;
    }

    /** A node that joins the domain by refreshing from its first agreement. */
    Engine joiner(String name) {
        Engine e = engine(name);
        e.markRefreshRequired("new node: joining the domain");
        return e;
    }

    /** Starts a node serving everyone else in {@code peers} and pulling from each supplier named. */
    ReplicationNode start(String name, List<String> peers, List<String> suppliers) {
        List<ConsumerPin> consumers = new ArrayList<>();
        for (String p : peers) {
            consumers.add(new ConsumerPin(p, identity(p).certificate(), mutual));
        }
        List<Agreement> agreements = new ArrayList<>();
        for (String s : suppliers) {
            agreements.add(new Agreement(name + "<-" + s, new InetSocketAddress("127.0.0.1", ports.get(s)), identity(s).certificate(),
                    Agreement.Mode.PULL, interval, automaticRefresh));
        }
        int port = ports.getOrDefault(name, 0);
        ReplicationNode n = ReplicationNode.start(engine(name), identity(name), new InetSocketAddress("127.0.0.1", port), consumers, agreements, options);
        ports.put(name, n.address().getPort());
        nodes.put(name, n);
        return n;
    }

    /** Reserves ports so that agreements can name suppliers started later. */
    void reservePorts(String... names) throws java.io.IOException {
        for (String n : names) {
            try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                ports.put(n, s.getLocalPort());
            }
        }
    }

    void stop(String name) {
        ReplicationNode n = nodes.remove(name);
        if (n != null) {
            n.close();
        }
    }

    void closeEngine(String name) {
        stop(name);
        Engine e = engines.remove(name);
        if (e != null) {
            e.close();
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Waits until every engine shows the same digest. */
    void awaitConvergence(Duration timeout) throws InterruptedException {
        await("digests to converge: " + digests(), timeout, () -> engines.values().stream().map(Engine::digest).distinct().count() == 1);
    }

    Map<String, Digest> digests() {
        Map<String, Digest> d = new LinkedHashMap<>();
        engines.forEach((n, e) -> d.put(n, e.digest()));
        return d;
    }

    @Override
    public void close() {
        for (String n : new ArrayList<>(nodes.keySet())) {
            stop(n);
        }
        engines.values().forEach(Engine::close);
        engines.clear();
    }
}
