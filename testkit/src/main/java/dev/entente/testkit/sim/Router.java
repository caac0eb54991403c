package dev.entente.testkit.sim;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The in-memory network's faults: how long a frame takes, whether it is lost or duplicated,
 * whether a connection breaks at it, and which links a partition blocks. Each link has its own
 * filter: its loss, duplication and cut rates and its latency are drawn when the link first
 * carries a frame. All choices come from the simulation's one random source.
 */
final class Router {
    private final Scenario scenario;
    private final Random random;
    private final Set<Long> blocked = new HashSet<>();

    /** One link's filter: percentages of frames dropped, duplicated and cutting their connection; base latency in ms. */
    private record Filter(int dropPercent, int duplicatePercent, int cutPercent, int latency) {
    }

    private final Map<Long, Filter> filters = new HashMap<>();
    private long dropped;
    private long duplicated;

    Router(Scenario scenario, Random random) {
        this.scenario = scenario;
        this.random = random;
    }

    private Filter filter(int a, int b) {
        return filters.computeIfAbsent(link(a, b), k -> new Filter(
                scenario.has(Scenario.Fault.DROP) ? 1 + random.nextInt(5) : 0,
                scenario.has(Scenario.Fault.DUPLICATE) ? 1 + random.nextInt(5) : 0,
                scenario.has(Scenario.Fault.CUT) ? 1 + random.nextInt(5) : 0,
                1 + random.nextInt(4)));
    }

    private static long link(int a, int b) {
        return Math.min(a, b) * 1000L + Math.max(a, b);
    }

    void block(int a, int b) {
        blocked.add(link(a, b));
    }

    void healAll() {
        blocked.clear();
    }

    boolean reachable(int a, int b) {
        return !blocked.contains(link(a, b));
    }

    /** A one-way trip on the link, in ms. */
    long latency(int from, int to) {
        long d = filter(from, to).latency() + random.nextInt(3);
        if (scenario.has(Scenario.Fault.REORDER)) {
            d += random.nextInt(60);
        }
        return d;
    }

    /** Whether the connection breaks as this frame is sent. */
    boolean cuts(int from, int to) {
        return random.nextInt(100) < filter(from, to).cutPercent();
    }

    /**
     * When a frame sent at {@code now} arrives: never when it is lost, twice when it is
     * duplicated. With {@code faults} off, exactly once.
     */
    long[] arrivals(long now, int from, int to, boolean faults) {
        Filter f = filter(from, to);
        if (faults && random.nextInt(100) < f.dropPercent()) {
            dropped++;
            return new long[0];
        }
        if (faults && random.nextInt(100) < f.duplicatePercent()) {
            duplicated++;
            return new long[] {now + latency(from, to), now + latency(from, to)};
        }
        return new long[] {now + latency(from, to)};
    }

    long dropped() {
        return dropped;
    }

    long duplicated() {
        return duplicated;
    }
}
