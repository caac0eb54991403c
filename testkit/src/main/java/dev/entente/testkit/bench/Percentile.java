package dev.entente.testkit.bench;

/** Percentiles of sorted samples, by nearest rank: always a value that was measured. */
final class Percentile {
    private Percentile() {
    }

    /** The {@code p} (0 to 1) percentile of ascending {@code sorted}; NaN when it is empty. */
    static double nearestRank(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1));
        return sorted[i];
    }
}
