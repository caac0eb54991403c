package dev.entente.node;

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
import java.util.concurrent.TimeUnit;

/**
 * {@code entente node} in a process of its own, from this JVM's class path, optionally under a
 * descriptor limit ({@code ulimit -n}); its output goes to a file the test reads. One HTTP
 * client, so that calls reuse one admin connection.
 */
final class NodeRun implements AutoCloseable {
    final Process process;
    final Path output;
    private final int adminPort;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    record Reply(int status, String body) {
    }

    private NodeRun(Process process, Path output, int adminPort, String token) {
        this.process = process;
        this.output = output;
        this.adminPort = adminPort;
        this.token = token;
    }

    /** Starts the node of {@code dataDir/node.yaml}; {@code descriptors} 0 keeps this JVM's limit. */
    static NodeRun start(Path dataDir, int adminPort, int descriptors) throws IOException {
        List<String> java = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-cp",
                System.getProperty("java.class.path"), Cli.class.getName(), "node", "--config", dataDir.resolve("node.yaml").toString());
        List<String> cmd = new ArrayList<>();
        if (descriptors > 0) {
            cmd.addAll(List.of("sh", "-c", "ulimit -n " + descriptors + " && exec \"$@\"", "sh"));
        }
        cmd.addAll(java);
        Path output = Files.createTempFile(dataDir.getParent(), dataDir.getFileName() + "-", ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        return new NodeRun(p, output, adminPort, Files.readString(dataDir.resolve("admin.token")).trim());
    }

    String printed() {
        try {
            return Files.readString(output, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits until the process printed {@code text}; false when it ended or the time ran out first. */
    boolean awaitPrinted(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (printed().contains(text)) {
                return true;
            }
            if (!process.isAlive()) {
                return printed().contains(text);
            }
            Thread.sleep(50);
        }
        return false;
    }

    /** The exit status, or -1 when the process is still running after {@code timeout}. */
    int awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    Reply call(String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path)).timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body());
        } catch (IOException e) {
            return new Reply(0, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Reply(0, "interrupted");
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(20, TimeUnit.SECONDS);
    }
}
