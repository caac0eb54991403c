package dev.entente.testkit.bench;

import dev.entente.testkit.chaos.FaultyLink;

import dev.entente.node.Cli;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Nodes of one workload, made the way an operator makes them: {@code entente init} for each (the
 * founder with {@code --new-domain}, the others joining by refresh), a {@code node.yaml} with the
 * pinned certificates of its consumers and suppliers, then one process per node.
 */
final class BenchCluster implements AutoCloseable {
    private record Pull(String consumer, String supplier, int port) {
    }

    private final Path root;
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private final List<Pull> pulls = new ArrayList<>();
    private final Map<String, NodeHandle> running = new LinkedHashMap<>();
    private final List<AutoCloseable> others = new ArrayList<>();

    BenchCluster(Path root) throws IOException {
        this.root = Files.createDirectories(root);
    }

    /** The memory of every node running now, by name. */
    Map<String, NodeHandle.Memory> memory() throws InterruptedException {
        Map<String, NodeHandle.Memory> m = new LinkedHashMap<>();
        for (Map.Entry<String, NodeHandle> e : running.entrySet()) {
            m.put(e.getKey(), e.getValue().memory());
        }
        return m;
    }

    Path dir(String name) {
        return root.resolve(name);
    }

    /** Runs {@code entente init} for a node on a free loopback port. */
    void init(String name, boolean founder) throws IOException {
        int port = freePort();
        List<String> args = new ArrayList<>(List.of("init", "--data-dir", dir(name).toString(), "--name", name,
                "--listen", "127.0.0.1:" + port, "--admin-listen", "127.0.0.1:0"));
        if (founder) {
            args.add("--new-domain");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = Cli.execute(args.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(out, true, StandardCharsets.UTF_8));
        if (code != 0) {
            throw new IllegalStateException("entente init of bench node '" + name + "' failed: " + out.toString(StandardCharsets.UTF_8));
        }
        ports.put(name, port);
    }

    /** {@code consumer} pulls from {@code supplier}; its agreements are tried in the order declared. */
    void pull(String consumer, String supplier) {
        pulls.add(new Pull(consumer, supplier, ports.get(supplier)));
    }

    /** {@code consumer} pulls from {@code supplier} through a relay the workload controls. */
    FaultyLink pullThroughRelay(String consumer, String supplier) throws IOException {
        FaultyLink relay = new FaultyLink(consumer + "-from-" + supplier, ports.get(supplier));
        others.add(relay);
        pulls.add(new Pull(consumer, supplier, relay.port()));
        return relay;
    }

    /** Writes the nodes' configurations and starts them, all at once. */
    List<NodeHandle> start(String maxHeap, String... names) throws Exception {
        for (String n : names) {
            writeConfig(n);
        }
        ExecutorService starter = Executors.newFixedThreadPool(names.length);
        try {
            List<Future<NodeHandle>> started = new ArrayList<>();
            for (String n : names) {
                started.add(starter.submit(() -> NodeHandle.start(n, dir(n), maxHeap)));
            }
            List<NodeHandle> handles = new ArrayList<>();
            Exception failure = null;
            for (int i = 0; i < names.length; i++) {
                try {
                    NodeHandle h = started.get(i).get();
                    running.put(names[i], h);
                    handles.add(h);
                } catch (java.util.concurrent.ExecutionException e) {
                    failure = e.getCause() instanceof Exception ex ? ex : e;
                }
            }
            if (failure != null) {
                throw failure;
            }
            return handles;
        } finally {
            starter.shutdown();
        }
    }

    private void writeConfig(String name) throws IOException {
        StringBuilder y = new StringBuilder();
        y.append("name: ").append(name).append('\n');
        y.append("dataDirectory: .\n");
        y.append("replication:\n  listen: 127.0.0.1:").append(ports.get(name)).append('\n');
        List<String> consumers = pulls.stream().filter(p -> p.supplier().equals(name)).map(Pull::consumer).distinct().toList();
        y.append("  consumers:").append(consumers.isEmpty() ? " []\n" : "\n");
        for (String c : consumers) {
            y.append("    - name: ").append(c).append("\n      certificate: ../").append(c).append("/cert.pem\n");
        }
        List<Pull> mine = pulls.stream().filter(p -> p.consumer().equals(name)).toList();
        y.append("agreements:").append(mine.isEmpty() ? " []\n" : "\n");
        for (Pull p : mine) {
            y.append("  - name: from-").append(p.supplier()).append('\n');
            y.append("    supplier: 127.0.0.1:").append(p.port()).append('\n');
            y.append("    certificate: ../").append(p.supplier()).append("/cert.pem\n");
            y.append("    mode: pull\n    interval: 5s\n    automaticRefresh: true\n");
        }
        y.append("admin:\n  listen: 127.0.0.1:0\n  tokenFile: admin.token\n");
        Files.writeString(dir(name).resolve("node.yaml"), y.toString());
    }

    private int freePort() throws IOException {
        return dev.entente.testkit.LoopbackPorts.free(ports::containsValue);
    }

    /** Makes a joining node a member: waits for its refresh, then for every agreement to pull once. */
    static void join(Duration timeout, NodeHandle... nodes) throws InterruptedException {
        for (NodeHandle n : nodes) {
            n.call("member " + timeout.toMillis(), timeout.plusSeconds(5));
        }
        // An agreement that met a supplier still joining is in backoff: a sync retries it now.
        for (NodeHandle n : nodes) {
            n.send("sync " + timeout.toMillis());
        }
        syncAnswers(timeout, nodes);
        for (NodeHandle n : nodes) {
            n.call("joined " + timeout.toMillis(), timeout.plusSeconds(5));
        }
    }

    /**
     * Reads the answers to {@code sync} commands already sent. A sync that fails (a connection
     * attempt that met a peer still starting) is not the workload's failure: the agreement keeps
     * retrying, and what the workload checks next (membership, equal digests) is the judge.
     */
    static void syncAnswers(Duration timeout, NodeHandle... nodes) throws InterruptedException {
        for (NodeHandle n : nodes) {
            try {
                n.answer("sync", timeout.plusSeconds(5));
            } catch (IllegalStateException e) {
                if (!e.getMessage().contains("'sync' failed")) {
                    throw e;
                }
                System.err.println("entente bench: " + e.getMessage().lines().findFirst().orElse("") + " (the agreement retries)");
            }
        }
    }

    /**
     * Waits until every node shows the same digest; answers it as a node gives it: hex, entries,
     * tombstones, conflicts.
     */
    static String[] awaitSameDigest(Duration timeout, NodeHandle... nodes) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> digests = new ArrayList<>();
            for (NodeHandle n : nodes) {
                digests.add(n.call("digest", Duration.ofMinutes(2)));
            }
            if (digests.stream().distinct().count() == 1) {
                return digests.get(0).split(" ");
            }
            if (System.nanoTime() > deadline) {
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < nodes.length; i++) {
                    b.append("\n  ").append(nodes[i].name).append(": ").append(digests.get(i)).append("; ").append(nodes[i].call("status", Duration.ofSeconds(30)));
                }
                throw new IllegalStateException("the nodes did not converge within " + timeout.toSeconds() + " s; no figure is printed:" + b);
            }
            Thread.sleep(100);
        }
    }

    @Override
    public void close() throws Exception {
        for (NodeHandle h : running.values()) {
            h.close();
        }
        for (AutoCloseable c : others) {
            c.close();
        }
    }
}
