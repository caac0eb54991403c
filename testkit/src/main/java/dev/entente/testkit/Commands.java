package dev.entente.testkit;

import dev.entente.node.Cli;
import dev.entente.testkit.chaos.Chaos;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The testkit's commands in the {@code entente} command tree: {@code bench}, {@code bench-engine},
 * {@code simulate} and {@code chaos}. Each parses its options here and runs its workload, its
 * simulator or its fault suite; the node's commands are the same as in the node's jar.
 */
final class Commands {
    private Commands() {
    }

    /** The commands, as the tree takes them. */
    static List<Object> all() {
        CommandLine bench = new CommandLine(new BenchCommand());
        List<String> footer = new ArrayList<>(List.of("%nWorkloads:"));
        footer.addAll(dev.entente.testkit.bench.Bench.workloadLines());
        footer.addAll(List.of("%nEnvironment:", "  ENTENTE_BENCH_NODE_OPTS  extra JVM options for every node process (say, to record a flight",
                "                           recording: -XX:StartFlightRecording=filename=node.jfr lands in each node's directory)",
                "%nExamples:", "  entente bench                          # every workload, as a table (about 7 minutes)",
                "  entente bench --workload W1,W2 --json   # one JSON object per workload",
                "  entente bench --quick                  # reduced sizes: a smoke test, figures not comparable"));
        bench.getCommandSpec().usageMessage().footer(footer.toArray(String[]::new));
        return List.of(bench, new BenchEngineCommand(), new SimulateCommand(), new ChaosCommand());
    }

    @Command(name = "bench", exitCodeListHeading = "%nExit status:%n",
            exitCodeList = {"0:every workload ran and passed its checks", "1:a workload failed (its line says why)", "2:wrong usage"}, description = {"The benchmark workloads on real node processes over TLS, with the machine's raw limits.",
        "One JVM per node, TLS 1.3 on loopback, each node with its own RocksDB directory. The machine's raw limits are "
            + "measured first, in the same run, and every figure is given with its ratio to them. Every workload checks its "
            + "result (equal digests) before it prints a figure."})
    static final class BenchCommand implements Callable<Integer> {
        @CommandLine.Mixin
        Cli.HelpOption help;
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--workload", split = ",", paramLabel = "W", description = "the workloads to run, say W1,W3 (default: all)")
        List<String> workloads = new ArrayList<>();
        @Option(names = "--quick", description = "reduced sizes, for a smoke test (figures are not comparable)")
        boolean quick;
        @Option(names = "--json", description = "one JSON object per workload, each on its own line")
        boolean json;
        @Option(names = "--dir", paramLabel = "DIR", description = "where the nodes' directories go, kept afterwards (default: a temporary directory, deleted afterwards)")
        Path dir;
        @Option(names = "--keep", description = "keep the temporary directory (node logs, configurations)")
        boolean keep;

        @Override
        public Integer call() throws Exception {
            try {
                return dev.entente.testkit.bench.Bench.run(new dev.entente.testkit.bench.Bench.Settings(workloads, quick, json, dir, keep),
                        Cli.out(spec), Cli.err(spec));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--workload: " + e.getMessage());
            }
        }
    }

    @Command(name = "bench-engine", description = {"The engine alone: RocksDB's raw rate, local commits and remote apply.",
        "  raw          RocksDB: entry + changelog record per entry, two column families, batches of 100, WAL on,",
        "               no fsync (the machine's limit)",
        "  single       local commits of one entry each (WAL on, no fsync per commit)",
        "  batched      local commits of 100 entries each",
        "  apply        applying remote batches of 100 records of 100 entries each",
        "  apply-pipelined  the same, each batch decoded on a second thread while the previous one commits, as a node does",
        "  apply-single applying remote batches of 100 single-entry records",
        "  refresh      a refresh's import: a supplier's snapshot of N entries (written in transactions of 1,000), cut into",
        "               1 MiB chunks beforehand, built aside and switched to (W5 without the network and the new JVM)",
        "  apply-cold   applying min(N, 100,000) entries, written in transactions of 1,000 and sent in 1 MiB batches,",
        "               decoded on a second thread, in a new JVM each round: the JIT's warm-up included (W1's cold",
        "               catch-up without the network)",
        "Each figure comes with the CPU time the process spent per entry (all threads). R rounds run every workload in "
            + "turn on fresh directories; the median is reported, with the lowest and highest rate seen. The benchmark runs in "
            + "a JVM of its own with a fixed and pre-touched heap (--jvm); --in-process runs it in this JVM instead, with "
            + "whatever heap the launcher gave it."},
            footerHeading = "%nExamples:%n", footer = {"  entente bench-engine --json", "  entente bench-engine --entries 20000 --rounds 1 --jvm \"-Xms512m -Xmx512m\""})
    static final class BenchEngineCommand implements Callable<Integer> {
        @CommandLine.Mixin
        Cli.HelpOption help;
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--entries", paramLabel = "N", defaultValue = "200000", description = "entries per workload (default: ${DEFAULT-VALUE})")
        int entries;
        @Option(names = "--single-commits", paramLabel = "N", defaultValue = "50000", description = "commits of the single workload (default: ${DEFAULT-VALUE})")
        int singles;
        @Option(names = "--rounds", paramLabel = "R", defaultValue = "5", description = "rounds of every workload (default: ${DEFAULT-VALUE})")
        int rounds;
        @Option(names = "--json", description = "one JSON object per figure, each on its own line")
        boolean json;
        @Option(names = "--dir", paramLabel = "DIR", description = "where the stores go (default: a temporary directory)")
        Path dir;
        @Option(names = "--jvm", paramLabel = "OPTIONS", defaultValue = EngineBench.DEFAULT_JVM_OPTIONS,
                description = "the options of the benchmark's JVM (default: ${DEFAULT-VALUE})")
        String jvm;
        @Option(names = "--in-process", description = "run in this JVM instead of a JVM of its own")
        boolean inProcess;

        @Override
        public Integer call() throws Exception {
            if (entries < 1 || singles < 1 || rounds < 1) {
                throw new ParameterException(spec.commandLine(), "--entries, --single-commits and --rounds must be 1 or more");
            }
            // The forked JVM gets this command's own arguments (what follows its name) to parse again.
            List<String> all = spec.root().commandLine().getParseResult().originalArgs();
            List<String> own = all.subList(all.indexOf(spec.name()) + 1, all.size());
            return EngineBench.run(new EngineBench.Settings(entries, singles, rounds, json, dir, jvm, inProcess), own);
        }
    }

    @Command(name = "simulate", description = {"Replays a simulated scenario from its seed, or explores random ones.",
        "The first form replays one scenario exactly (a failing property prints its line); the second runs COUNT random "
            + "scenarios and stops at the first violation, printing the line that replays it."},
            customSynopsis = {"entente simulate seed=S nodes=2..7 topology=chain|star|ring|full-mesh hub=true|false writes=W faults=F,...|none",
                "       entente simulate --explore COUNT [--seed S]",
                "F: drop, duplicate, reorder, cut, partition, long_split, crash, clock_skew, trim"},
            footerHeading = "%nExamples:%n", footer = {"  entente simulate --explore 200 --seed 42",
                "  entente simulate seed=-8308492 nodes=2 topology=chain hub=false writes=20 faults=partition"},
            exitCodeListHeading = "%nExit status:%n", exitCodeList = {"0:every scenario held every invariant",
                "1:a scenario broke one (its line says which, and how to replay it)", "2:wrong usage"})
    static final class SimulateCommand implements Callable<Integer> {
        @CommandLine.Mixin
        Cli.HelpOption help;
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(paramLabel = "KEY=VALUE", description = "the scenario to replay")
        List<String> scenario = new ArrayList<>();
        @Option(names = "--explore", paramLabel = "COUNT", description = "run this many random scenarios")
        Integer explore;
        @Option(names = "--seed", paramLabel = "S", description = "the seed of the exploration (default: the clock)")
        Long seed;

        @Override
        public Integer call() {
            if (explore != null) {
                if (!scenario.isEmpty()) {
                    throw new ParameterException(spec.commandLine(), "give a scenario or --explore, not both");
                }
                return Simulate.explore(explore, seed != null ? seed : System.nanoTime(), Cli.out(spec));
            }
            if (scenario.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "simulate needs a scenario (seed=S nodes=N ...) or --explore COUNT");
            }
            if (seed != null) {
                throw new ParameterException(spec.commandLine(), "--seed goes with --explore; a scenario gives its own seed=S");
            }
            try {
                return Simulate.replay(String.join(" ", scenario), Cli.out(spec));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
    }

    @Command(name = "chaos", description = {"Node processes under kill -9, SIGSTOP, cut links, full disks and taken ports; then every check.",
        "N node processes take writes while faults are injected for the time given; then the faults stop and every "
            + "check runs: all digests equal, no acknowledged write lost, no deleted entry back. A failure prints its seed."},
            footerHeading = "%nExamples:%n", footer = {"  entente chaos --minutes 10", "  entente chaos --seed 1234 --nodes 5 --seconds 90"},
            exitCodeListHeading = "%nExit status:%n", exitCodeList = {"0:every check passed", "1:a check failed (its line says which)", "2:wrong usage"})
    static final class ChaosCommand implements Callable<Integer> {
        @CommandLine.Mixin
        Cli.HelpOption help;
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--seed", paramLabel = "S", description = "the seed of the faults (default: the clock)")
        Long seed;
        @Option(names = "--nodes", paramLabel = "N", defaultValue = "3", description = "node processes, 3 or more (default: ${DEFAULT-VALUE})")
        int nodes;
        @CommandLine.ArgGroup(exclusive = true)
        Length length;

        static final class Length {
            @Option(names = "--seconds", paramLabel = "N", description = "inject faults for N seconds")
            Long seconds;
            @Option(names = "--minutes", paramLabel = "N", description = "inject faults for N minutes (default: 1)")
            Long minutes;
        }

        @Override
        public Integer call() throws Exception {
            if (nodes < 3) {
                throw new ParameterException(spec.commandLine(), "chaos needs 3 nodes or more, got --nodes " + nodes);
            }
            long seconds = length == null ? 60 : length.seconds != null ? length.seconds : 60 * length.minutes;
            if (seconds < 1) {
                throw new ParameterException(spec.commandLine(), "the faults need a second or more");
            }
            return Chaos.run(new Chaos.Settings(seed != null ? seed : System.nanoTime(), nodes, Duration.ofSeconds(seconds)), Cli.out(spec));
        }
    }
}
