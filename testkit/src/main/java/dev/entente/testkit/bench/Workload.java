package dev.entente.testkit.bench;

import java.nio.file.Path;

/** One of the standard workloads of {@code entente bench}. */
interface Workload {
    /** W1 to W5. */
    String id();

    /** What it measures, for {@code --help}. */
    String description();

    /**
     * Runs it in {@code dir} and checks its result before returning figures.
     *
     * @param shared fixtures several workloads use (the big database)
     */
    Result run(Path dir, Limits limits, boolean quick, SharedFixtures shared) throws Exception;
}
