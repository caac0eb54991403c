package dev.entente.testkit;

import dev.entente.node.Cli;
import dev.entente.testkit.bench.Bench;
import java.io.PrintStream;
import java.util.Arrays;

/**
 * Entry point of the testkit jar: the whole {@code entente} command tree, with the testkit's
 * commands ({@code bench}, {@code bench-engine}, {@code simulate}, {@code chaos}) in it.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            // Processes the testkit starts itself, with arguments it wrote: not commands for a person.
            String[] rest = Arrays.copyOfRange(args, 1, args.length);
            if (args[0].equals(Bench.NODE_COMMAND)) {
                System.exit(Bench.node(rest));
            }
            if (args[0].equals(ColdApply.COMMAND)) {
                System.exit(ColdApply.child(rest));
            }
        }
        System.exit(execute(args, System.out, System.err));
    }

    /** Runs one command as {@code entente} from this jar would; returns its exit code. */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        return Cli.execute(args, out, err, Commands.all());
    }
}
