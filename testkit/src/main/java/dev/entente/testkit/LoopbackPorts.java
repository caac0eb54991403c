package dev.entente.testkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loopback ports for node processes the benchmarks and the fault suite start. */
public final class LoopbackPorts {
    private LoopbackPorts() {
    }

    /**
     * A free loopback port, not one {@code taken} names, for a node to listen on once it starts,
     * seconds from now (or again after a restart). Taken below the kernel's ephemeral range: a
     * port from that range could meanwhile become the local end of any outgoing connection (the
     * nodes make many), and the node would then fail to start.
     */
    public static int free(java.util.function.IntPredicate taken) throws IOException {
        int high = ephemeralLow();
        int low = 10_000;
        if (high - low < 1_000) {
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            }
        }
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = java.util.concurrent.ThreadLocalRandom.current().nextInt(low, high);
            if (taken.test(port)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
                return port;
            } catch (java.net.BindException e) {
                // taken: try another
            }
        }
        throw new IOException("no free loopback port found between " + low + " and " + high + " in 200 tries");
    }

    /** The lowest port of the kernel's ephemeral range (Linux; the IANA range elsewhere). */
    private static int ephemeralLow() {
        Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        try {
            // readAllLines, not readString: procfs reports a size of 0 and readString stops short
            return Integer.parseInt(Files.readAllLines(range).get(0).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 49_152;
        }
    }

}
