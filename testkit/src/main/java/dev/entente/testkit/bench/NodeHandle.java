package dev.entente.testkit.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The driver's side of one {@link BenchNode} process: sends commands, reads the one-line answers,
 * and turns a failure, a timeout or a dead process into an exception that names the node and
 * quotes the end of its log.
 */
final class NodeHandle implements AutoCloseable {
    private static final String EOF = "\u0000eof";

    final String name;
    final Path dir;
    private final Process process;
    private final PrintWriter commands;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();

    private NodeHandle(String name, Path dir, Process process, Duration startTimeout) throws InterruptedException {
        this.name = name;
        this.dir = dir;
        this.process = process;
        this.commands = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    answers.add(line);
                }
            } catch (IOException e) {
                answers.add("ERR reading from the process: " + e.getMessage());
            }
            answers.add(EOF);
        }, "bench-" + name + "-reader");
        reader.setDaemon(true);
        reader.start();
        String ready = next(startTimeout, "start");
        if (!ready.startsWith("READY ")) {
            throw failure("did not start: " + ready);
        }
    }

    /**
     * Starts {@code bench-node --config dir/node.yaml} in a JVM of its own with the given heap cap.
     * The heap may grow and shrink: a fixed, pre-touched heap made W2's lag p99 worse here (68-99
     * against 38-45 ms, docs/benchmarks.md), though bench-engine gains from one.
     */
    static NodeHandle start(String name, Path dir, String maxHeap) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + maxHeap);
        // for profiling a node, e.g. ENTENTE_BENCH_NODE_OPTS=-XX:StartFlightRecording=filename=node.jfr
        String extra = System.getenv("ENTENTE_BENCH_NODE_OPTS");
        if (extra != null && !extra.isBlank()) {
            cmd.addAll(List.of(extra.trim().split("\\s+")));
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.entente.testkit.Main");
        cmd.add(Bench.NODE_COMMAND);
        cmd.add("--config");
        cmd.add(dir.resolve("node.yaml").toString());
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("node.log").toFile())).start();
        try {
            return new NodeHandle(name, dir, p, Duration.ofSeconds(60));
        } catch (RuntimeException | InterruptedException e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /** Sends a command without waiting; {@link #answer} reads its answer. */
    void send(String command) {
        commands.println(command);
        if (commands.checkError()) {
            throw failure("cannot send '" + command + "': the process has gone");
        }
    }

    /** The answer to the oldest command sent, without its {@code OK}. */
    String answer(String command, Duration timeout) throws InterruptedException {
        String line = next(timeout, command);
        if (line.startsWith("OK")) {
            return line.length() > 3 ? line.substring(3) : "";
        }
        throw failure("'" + command + "' failed: " + line);
    }

    String call(String command, Duration timeout) throws InterruptedException {
        send(command);
        return answer(command, timeout);
    }

    /**
     * A node process's memory.
     *
     * @param peakRssBytes the most resident memory the process has held since it started ({@code VmHWM}); -1 where
     *                     {@code /proc} cannot tell (not Linux)
     * @param rssBytes resident memory now ({@code VmRSS}); -1 likewise
     * @param peakHeapBytes the most Java heap in use, sampled every few milliseconds, since start or the last {@code heap-reset}
     */
    record Memory(long peakRssBytes, long rssBytes, long peakHeapBytes) {
    }

    Memory memory() throws InterruptedException {
        long peakHeap = Long.parseLong(call("heap", Duration.ofSeconds(10)));
        long peakRss = -1;
        long rss = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    peakRss = kib(line);
                } else if (line.startsWith("VmRSS:")) {
                    rss = kib(line);
                }
            }
        } catch (IOException e) {
            // No /proc here: the figures say -1, "not measured", rather than fail the workload.
            return new Memory(-1, -1, peakHeap);
        }
        return new Memory(peakRss, rss, peakHeap);
    }

    private static long kib(String statusLine) {
        return 1024 * Long.parseLong(statusLine.replaceAll("[^0-9]", ""));
    }

    /** Milliseconds the node's JIT compilers have worked since it started. */
    long jitMillis() throws InterruptedException {
        return Long.parseLong(call("jit", Duration.ofSeconds(10)));
    }

    private String next(Duration timeout, String command) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = answers.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw failure("no answer to '" + command + "' within " + timeout.toSeconds() + " s");
            }
            if (line.equals(EOF)) {
                throw failure("the process ended (exit " + exitCode() + ") while running '" + command + "'");
            }
            if (line.startsWith("OK") || line.startsWith("ERR") || line.startsWith("READY")) {
                return line;
            }
            // the JVM itself may print on stdout (a flight recorder started by ENTENTE_BENCH_NODE_OPTS)
        }
    }

    private String exitCode() {
        try {
            return process.waitFor(2, TimeUnit.SECONDS) ? Integer.toString(process.exitValue()) : "still running";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    private IllegalStateException failure(String what) {
        return new IllegalStateException("bench node '" + name + "' " + what + "\n  last lines of " + dir.resolve("node.log") + ":\n" + logTail());
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("node.log"));
            StringBuilder b = new StringBuilder();
            for (String l : lines.subList(Math.max(0, lines.size() - 15), lines.size())) {
                b.append("    ").append(l).append('\n');
            }
            return b.toString();
        } catch (IOException e) {
            return "    (unreadable: " + e.getMessage() + ")\n";
        }
    }

    /** Stops the node cleanly (the batch in flight finishes); kills it if it does not stop in time. */
    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                commands.println("quit");
                commands.close();
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
