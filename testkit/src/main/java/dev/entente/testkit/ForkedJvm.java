package dev.entente.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a testkit command in a JVM of its own with chosen options, as JMH forks its benchmarks.
 *
 * <p>A benchmark's figures depend on the JVM's heap as much as on the code: with the launcher's
 * default (a quarter of the machine's memory, grown on demand) the collector shrinks the heap at
 * each {@code System.gc()} between timed parts and the next part pays to fault the pages back in,
 * which measured here as up to half of an engine path's CPU. The engine benchmark measures bulk
 * paths, for which a fixed, pre-touched heap is the setting to choose (docs/operations.md, "The
 * JVM"); it runs with one and prints the options it ran with.
 */
final class ForkedJvm {
    /** Set in the child, so that it runs the command instead of forking again. */
    static final String FORKED_PROPERTY = "entente.bench.jvm";

    private ForkedJvm() {
    }

    /** JVM options given as one string, split at spaces; none for null or blank. */
    static List<String> split(String options) {
        return options == null || options.isBlank() ? List.of() : List.of(options.trim().split("\\s+"));
    }

    /** The JVM options the current process was forked with, or null when it was not forked. */
    static String forkedWith() {
        return System.getProperty(FORKED_PROPERTY);
    }

    /**
     * Runs {@code java <options> -cp <this class path> dev.entente.testkit.Main <command> <args>},
     * its standard output copied to {@code System.out} line by line (so a caller that redirected it
     * gets the figures) and its standard error to this process's, and returns its exit code.
     */
    static int run(List<String> options, String command, List<String> args) throws IOException, InterruptedException {
        return run(options, command, args, System.out::println);
    }

    /**
     * Runs the command as {@link #run} does and returns its standard output.
     *
     * @throws IllegalStateException when it exits with an error
     */
    static List<String> output(List<String> options, String command, List<String> args) throws IOException, InterruptedException {
        List<String> lines = new ArrayList<>();
        int code = run(options, command, args, lines::add);
        if (code != 0) {
            throw new IllegalStateException("'" + command + "' in a JVM of its own exited with " + code + " (its errors are above); it printed: " + lines);
        }
        return lines;
    }

    private static int run(List<String> options, String command, List<String> args, java.util.function.Consumer<String> stdout)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(options);
        cmd.add("-D" + FORKED_PROPERTY + "=" + String.join(" ", options));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.add(command);
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (java.io.BufferedReader out = p.inputReader(java.nio.charset.StandardCharsets.UTF_8)) {
            for (String line; (line = out.readLine()) != null; ) {
                stdout.accept(line);
            }
            return p.waitFor();
        } catch (IOException | InterruptedException e) {
            p.destroyForcibly();
            throw e;
        }
    }
}
