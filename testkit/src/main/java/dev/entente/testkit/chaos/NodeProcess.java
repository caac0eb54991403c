package dev.entente.testkit.chaos;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real {@code entente node} process, started from this JVM's class path, that the chaos run
 * kills, stops and restarts, and talks to over its REST API.
 */
final class NodeProcess implements AutoCloseable {
    final String name;
    final Path dir;
    final int adminPort;
    final int replicationPort;
    /** Beside the node's directory, not in it: a fault that fills its disk leaves its log whole. */
    final Path log;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;
    private boolean stopped;
    /** Down on purpose (killed, a restart pending): the supervisor leaves it. */
    private boolean held;
    /** Where the log stood when the current process started. */
    private long startOffset;

    /** An answer of the REST API; status 0 when none came (a timeout, a refused connection). */
    record Reply(int status, String body) {
    }

    NodeProcess(String name, Path dir, int adminPort, int replicationPort) throws IOException {
        this.name = name;
        this.dir = dir;
        this.adminPort = adminPort;
        this.replicationPort = replicationPort;
        this.log = dir.resolveSibling(name + ".log");
        this.token = Files.readString(dir.resolve("admin.token")).trim();
    }

    synchronized void start() throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), "dev.entente.node.Cli", "node", "--config", dir.resolve("node.yaml").toString()));
        startOffset = logLength();
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        stopped = false;
        held = false;
    }

    synchronized boolean running() {
        return process != null && process.isAlive();
    }

    synchronized boolean stopped() {
        return stopped;
    }

    /** kill -9: the process dies at once, as on a crash or a power cut of the process alone; it stays down until started. */
    synchronized void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor();
        }
        stopped = false;
        held = true;
    }

    /** Whether the node is down on purpose, waiting for a restart the run scheduled. */
    synchronized boolean held() {
        return held;
    }

    /** The exit status of the process that ended; call when not {@link #running()}. */
    synchronized int exitValue() {
        return process.exitValue();
    }

    /** What the current (or last) process printed. */
    synchronized String printedSinceStart() {
        return logSince(startOffset);
    }

    /** SIGSTOP: the process freezes, its sockets open; SIGCONT resumes it. */
    synchronized void pause() throws IOException, InterruptedException {
        if (running() && !stopped) {
            signal("STOP");
            stopped = true;
        }
    }

    synchronized void resume() throws IOException, InterruptedException {
        if (running() && stopped) {
            signal("CONT");
            stopped = false;
        }
    }

    private void signal(String sig) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).start().waitFor();
    }

    /** Waits until the node answers its health check, or the time is up. */
    boolean awaitHealthy(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!running()) {
                return false;
            }
            if (call("GET", "/_status/check", null, Duration.ofSeconds(2)).status() == 200) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    Reply call(String method, String path, String body, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path)).timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Reply(r.statusCode(), r.body());
        } catch (IOException e) {
            return new Reply(0, String.valueOf(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Reply(0, "interrupted");
        }
    }

    /** The exit status once the process ended, or -1 if it still runs after {@code timeout}. */
    int awaitExit(Duration timeout) throws InterruptedException {
        Process p;
        synchronized (this) {
            p = process;
        }
        return p.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS) ? p.exitValue() : -1;
    }

    /** How long the node's log is now: {@link #logSince} reads what comes after. */
    long logLength() {
        try {
            return Files.exists(log) ? Files.size(log) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** What the node logged after {@code offset}. */
    String logSince(long offset) {
        try {
            byte[] all = Files.readAllBytes(log);
            return new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** The last lines of the node's log, for a failure's report. */
    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n      ", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public synchronized void close() {
        if (process != null && process.isAlive()) {
            if (stopped) {
                try {
                    signal("CONT");
                } catch (IOException | InterruptedException e) {
                    // killed below either way
                }
            }
            process.destroyForcibly();
        }
    }
}
