package dev.entente.engine;

import java.nio.file.Path;

/**
 * The child process of {@link CrashSafetyTest}: commits transactions of two entries each, forever,
 * and prints "ACK n" after each commit returns. The parent kills it with SIGKILL.
 */
public final class CrashWriter {
    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        int from = Integer.parseInt(args[1]);
        try (Engine e = Engine.open(EngineOptions.builder(dir).build())) {
            if (e.namespace("crash").isEmpty()) {
                e.transaction().defineNamespace("crash", Schema.builder().unique("name").build()).commit();
            }
            System.out.println("READY");
            System.out.flush();
            for (int n = from; ; n++) {
                String txn = Integer.toString(n);
                e.transaction()
                        .create("crash", e.newEntryId(), Attributes.ofText("name", "first-" + n, "txn", txn))
                        .create("crash", e.newEntryId(), Attributes.ofText("name", "second-" + n, "txn", txn))
                        .commit();
                System.out.println("ACK " + n);
                System.out.flush();
            }
        }
    }
}
