package dev.entente.testkit.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entente.testkit.TempDirs;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code entente bench}: the standard workloads, each on real node processes (one JVM per node,
 * TLS 1.3 on loopback, each with its own RocksDB directory), with the machine's raw limits
 * measured in the same run. Every workload checks its result before it prints a figure.
 */
public final class Bench {
    static final List<Workload> WORKLOADS = List.of(new BulkConverge(), new SteadyLag(), new ConflictingEdits(), new SmallDelta(), new Refresh());

    private Bench() {
    }

    /** The workloads, one line each, for the command's help. */
    public static List<String> workloadLines() {
        return WORKLOADS.stream().map(w -> "  " + w.id() + "  " + w.description()).toList();
    }

    /**
     * What to run and where.
     *
     * @param workloads the workloads' ids (W1 to W5); empty: all
     * @param quick reduced sizes, for a smoke test (figures are not comparable)
     * @param dir where the nodes' directories go, kept afterwards; null: a temporary directory
     * @param keep keep the temporary directory
     */
    public record Settings(List<String> workloads, boolean quick, boolean json, Path dir, boolean keep) {
        List<Workload> chosen() {
            if (workloads.isEmpty()) {
                return WORKLOADS;
            }
            List<Workload> chosen = new ArrayList<>();
            for (String id : workloads) {
                chosen.add(WORKLOADS.stream().filter(x -> x.id().equalsIgnoreCase(id.trim())).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("unknown workload '" + id + "'; choose among "
                                + String.join(", ", WORKLOADS.stream().map(Workload::id).toList()))));
            }
            return chosen;
        }
    }

    /**
     * Runs the bench; answers the exit code.
     *
     * @throws IllegalArgumentException a workload named does not exist (before anything runs)
     */
    public static int run(Settings settings, PrintStream out, PrintStream err) throws Exception {
        List<Workload> chosen = settings.chosen();
        boolean quick = settings.quick();
        boolean json = settings.json();
        boolean keep = settings.keep();
        Path dir = settings.dir();
        Path root = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("entente-bench");
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("java", System.getProperty("java.version"));
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        machine.put("quick", quick);
        machine.put("commit", commit());
        int failures = 0;
        try (SharedFixtures shared = new SharedFixtures(root.resolve("shared"))) {
            err.println("entente bench: measuring this machine's raw limits");
            Limits limits = Limits.measure(root.resolve("limits"), quick);
            machine.put("tls_provider", limits.tlsProvider());
            if (!json) {
                out.printf(Locale.ROOT, "entente bench%s: commit %s, %d cores, Java %s, TLS 1.3 via %s%n", quick ? " --quick (reduced sizes)" : "",
                        machine.get("commit"), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), limits.tlsProvider());
                out.printf(Locale.ROOT, "limits, measured in this run: RocksDB raw %,.0f entries/s; TLS loopback %,.0f MB/s; TLS round trip %.3f ms%n",
                        limits.rocksDbEntriesPerSecond(), limits.tlsMegabytesPerSecond(), limits.tlsRoundTripMillis());
            }
            for (Workload w : chosen) {
                err.println("entente bench: running " + w.id());
                long t0 = System.nanoTime();
                try {
                    Result r = w.run(root.resolve(w.id()), limits, quick, shared);
                    if (json) {
                        out.println(r.json(machine));
                    } else {
                        out.printf(Locale.ROOT, "%n%s %s (%s; %.0f s)%n", r.workload(), r.title(), describe(r.parameters()), (System.nanoTime() - t0) / 1e9);
                        r.lines().forEach(out::println);
                    }
                } catch (Exception | AssertionError e) {
                    failures++;
                    String message = e.getMessage() == null ? e.toString() : e.getMessage();
                    if (json) {
                        Map<String, Object> o = new LinkedHashMap<>();
                        o.put("workload", w.id());
                        o.put("error", message);
                        o.put("machine", machine);
                        out.println(new ObjectMapper().writeValueAsString(o));
                    } else {
                        out.printf("%n%s FAILED: %s%n", w.id(), message);
                    }
                    err.println("entente bench: " + w.id() + " failed: " + message);
                }
                out.flush();
            }
        } finally {
            if (keep || dir != null) {
                err.println("entente bench: the nodes' directories are kept in " + root);
            } else {
                TempDirs.delete(root);
            }
        }
        return failures == 0 ? 0 : 1;
    }

    /** The command of the node process that {@link NodeHandle} starts. */
    public static final String NODE_COMMAND = "bench-node";

    /** The {@code bench-node} process that {@link NodeHandle} starts. */
    public static int node(String[] args) throws Exception {
        return BenchNode.run(args);
    }

    /**
     * The commit of the source checkout the bench runs from, so a figure can be traced to its code
     * ("-dirty" when it has changes not committed); null outside a checkout or without git.
     */
    static String commit() {
        try {
            Process p = new ProcessBuilder("git", "describe", "--always", "--dirty", "--abbrev=12", "--exclude=*").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 && out.matches("[0-9a-f]{7,40}(-dirty)?") ? out : null;
        } catch (java.io.IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static String describe(Map<String, Object> parameters) {
        StringBuilder b = new StringBuilder();
        parameters.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k.replace('_', ' ')).append(' ')
                .append(v instanceof Integer i ? String.format(Locale.ROOT, "%,d", i) : v));
        return b.toString();
    }
}
