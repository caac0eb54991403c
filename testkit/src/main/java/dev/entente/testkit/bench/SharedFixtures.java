package dev.entente.testkit.bench;

import java.nio.file.Path;

/**
 * Fixtures that cost more to make than the workloads that use them: the big database of W4 and W5
 * is loaded once per run.
 */
final class SharedFixtures implements AutoCloseable {
    private final Path root;
    private BigDatabase big;

    SharedFixtures(Path root) {
        this.root = root;
    }

    BigDatabase bigDatabase(int entries) throws Exception {
        if (big != null && big.entries != entries) {
            big.close();
            big = null;
        }
        if (big == null) {
            big = BigDatabase.create(root.resolve("big-" + entries), entries);
        }
        return big;
    }

    @Override
    public void close() throws Exception {
        if (big != null) {
            big.close();
        }
    }
}
