package dev.entente.testkit;

import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.Transaction;
import dev.entente.node.Agreement;
import dev.entente.node.NodeIdentity;
import dev.entente.node.ReplicationNode;
import dev.entente.node.TransportOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * One node in a process of its own, for benchmarks that must not share a JVM: {@code supplier}
 * writes N entries and serves; {@code consumer} joins a supplier by refresh. It talks to its
 * parent on stdout ({@code READY port}, {@code JOINED seconds}, {@code PEAK_HEAP bytes}) and stops
 * when stdin closes.
 */
final class NodeProcess {
    private NodeProcess() {
    }

    static int run(String[] args) throws Exception {
        HeapSampler heap = new HeapSampler();
        if (args.length < 3) {
            System.err.println("usage: node-process supplier DIR ENTRIES | node-process consumer DIR SUPPLIER_PORT");
            return 2;
        }
        Path dir = Path.of(args[1]);
        NodeIdentity id = Files.exists(dir.resolve("identity/key.pem")) ? NodeIdentity.load(dir.resolve("identity"))
                : NodeIdentity.create(dir.resolve("identity"), dir.getFileName().toString(), NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC());
        Files.writeString(dir.resolve("cert.pem"), id.certificatePem());
        try (Engine e = Engine.open(EngineOptions.builder(dir.resolve("data")).build())) {
            if (args[0].equals("supplier")) {
                e.transaction().defineNamespace(IdentityEntries.NAMESPACE, IdentityEntries.schema()).commit();
                int entries = Integer.parseInt(args[2]);
                for (int i = 0; i < entries; i += 1000) {
                    Transaction tx = e.transaction();
                    for (int j = i; j < Math.min(entries, i + 1000); j++) {
                        tx.create(IdentityEntries.NAMESPACE, e.newEntryId(), IdentityEntries.entry("p-", j));
                    }
                    tx.commit();
                }
                Path consumerCert = dir.resolveSibling("consumer").resolve("cert.pem");
                var consumer = NodeIdentity.parseCertificate(Files.readString(consumerCert), consumerCert.toString());
                try (ReplicationNode n = ReplicationNode.start(e, id, new InetSocketAddress("127.0.0.1", 0), List.of(consumer), List.of(),
                        TransportOptions.DEFAULTS)) {
                    say("READY " + n.address().getPort() + " " + e.digest().hex());
                    waitForParent();
                }
            } else {
                e.markRefreshRequired("new node: joining the domain");
                Path supplierCert = dir.resolveSibling("supplier").resolve("cert.pem");
                var supplier = NodeIdentity.parseCertificate(Files.readString(supplierCert), supplierCert.toString());
                long start = System.nanoTime();
                try (ReplicationNode n = ReplicationNode.start(e, id, new InetSocketAddress("127.0.0.1", 0), List.of(),
                        List.of(new Agreement("consumer<-supplier", new InetSocketAddress("127.0.0.1", Integer.parseInt(args[2])), supplier,
                                Agreement.Mode.PULL, Duration.ofMinutes(5), true)), TransportOptions.DEFAULTS)) {
                    while (e.refreshRequired().isPresent() || n.status().get(0).lastSuccess() == null) {
                        Thread.sleep(5);
                    }
                    say("JOINED " + (System.nanoTime() - start) / 1e9 + " " + e.digest().hex());
                }
            }
            say("PEAK_HEAP " + heap.peak());
        }
        return 0;
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    private static void waitForParent() throws java.io.IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        while (in.readLine() != null) {
            // the parent closes stdin when the benchmark is over
        }
    }

    /**
     * Samples the heap in use every few milliseconds: the memory pools' own peaks are reached at
     * different moments, so their sum would overstate the peak.
     */
    private static final class HeapSampler {
        private final java.util.concurrent.atomic.AtomicLong peak = new java.util.concurrent.atomic.AtomicLong();

        HeapSampler() {
            Thread t = new Thread(this::sample, "heap-sampler");
            t.setDaemon(true);
            t.start();
        }

        private void sample() {
            var memory = ManagementFactory.getMemoryMXBean();
            while (true) {
                peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        long peak() {
            return peak.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
        }
    }
}
