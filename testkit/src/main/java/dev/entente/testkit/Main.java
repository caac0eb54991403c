package dev.entente.testkit;

import dev.entente.testkit.bench.Bench;
import java.util.Arrays;

/** Entry point of the testkit jar: {@code bench}, {@code bench-engine}, {@code simulate}, {@code chaos}. The demo is the node's ({@code bin/entente demo}). */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        String command = args.length == 0 ? "help" : args[0];
        String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        int code;
        switch (command) {
            case "bench" -> code = Bench.run(rest, System.out, System.err);
            case "bench-node" -> code = Bench.node(rest);
            case "bench-engine" -> code = EngineBench.run(rest);
            case ColdApply.COMMAND -> code = ColdApply.child(rest);
            case "simulate" -> code = Simulate.run(rest);
            case "chaos" -> code = dev.entente.testkit.chaos.Chaos.main(rest, System.out);
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
                  bench   the standard workloads W1 to W5 on real node processes over TLS
                          (bench --help; also run as 'bin/entente bench')
                  bench-engine  the engine alone: raw RocksDB rate, local commits, remote apply
                          (bench-engine --help)
                  simulate  replay one simulated scenario, or explore random ones
                          (simulate --help)
                  chaos   node processes under kill -9, SIGSTOP, broken links, full disks and taken ports while they take
                          writes; then every check (chaos --seed S --seconds N; also 'bin/entente chaos')""");
    }
}
