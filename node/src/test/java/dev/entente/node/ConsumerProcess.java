package dev.entente.node;

import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The child process of {@link CrashRecoveryTest}: a consumer node that joins the domain, waits
 * for "GO" on stdin, then pulls, printing how many changes it has applied; the parent kills it.
 * Arguments: node directory, supplier port, supplier certificate file.
 */
public final class ConsumerProcess {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        InetSocketAddress supplier = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1]));
        var cert = NodeIdentity.parseCertificate(Files.readString(Path.of(args[2])), args[2]);
        NodeIdentity id = NodeIdentity.load(dir.resolve("identity"));
        TransportOptions small = new TransportOptions(16 << 20, 100, 1 << 20, 2, Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofSeconds(2));
        try (Engine e = Engine.open(EngineOptions.builder(dir.resolve("data")).build())) {
            if (e.ruv().origins().isEmpty() && e.refreshRequired().isEmpty()) {
                e.markRefreshRequired("new node: joining the domain");
            }
            Agreement a = new Agreement("b<-a", supplier, cert, Agreement.Mode.PULL, Duration.ofSeconds(1), true);
            try (ReplicationNode n = ReplicationNode.start(e, id, new InetSocketAddress("127.0.0.1", 0), List.of(), List.of(a), small)) {
                while (e.refreshRequired().isPresent() || n.status().get(0).lastSuccess() == null) {
                    Thread.sleep(10);
                }
            }
            System.out.println("JOINED");
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            if (!"GO".equals(in.readLine())) {
                return;
            }
            try (ReplicationNode n = ReplicationNode.start(e, id, new InetSocketAddress("127.0.0.1", 0), List.of(), List.of(a), small)) {
                while (true) {
                    System.out.println("APPLIED " + n.status().get(0).changesApplied());
                    System.out.flush();
                    Thread.sleep(2);
                }
            }
        }
    }
}
