package dev.entente.testkit;

import java.util.Arrays;

/** Entry point of the testkit jar: {@code demo} or {@code bench}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        String command = args.length == 0 ? "help" : args[0];
        String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        int code;
        switch (command) {
            case "demo" -> code = Demo.run(rest);
            case "bench" -> code = EngineBench.run(rest);
            case "simulate" -> code = Simulate.run(rest);
            case "bench-replication" -> code = ReplicationBench.run(rest);
            case "node-process" -> code = NodeProcess.run(rest);
            case "help", "--help", "-h" -> {
                usage();
                code = 0;
            }
            default -> {
                System.err.println("unknown command '" + command + "'");
                usage();
                code = 2;
            }
        }
        System.exit(code);
    }

    private static void usage() {
        System.err.println("""
                usage: java -jar entente-testkit.jar <command> [options]
                  demo    three engines on their own RocksDB directories write concurrently and
                          replicate in-process until their digests agree
                  bench   engine benchmark: raw RocksDB rate, local commits, remote apply
                          (bench --help for its options)
                  bench-replication  real nodes over TLS on loopback: throughput, lag, refresh, small deltas
                          (bench-replication --help)
                  simulate  replay one simulated scenario, or explore random ones
                          (simulate --help)""");
    }
}
