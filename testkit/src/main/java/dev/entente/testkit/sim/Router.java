package dev.entente.testkit.sim;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The in-memory network: delivers each message after a delay, and, as the scenario's faults
 * say, drops, duplicates or reorders it (by a random extra delay) or blocks it across a
 * partition. Each link has its own filter: its loss and duplication rates and its latency are
 * drawn when the link first carries a message. All choices come from the simulation's one
 * random source.
 */
final class Router {
    private final Scenario scenario;
    private final Random random;
    private final BiConsumer<Long, SimMessage> schedule;
    private final Set<Long> blocked = new HashSet<>();

    /** One link's filter: percentages of messages dropped and duplicated, base latency in ms. */
    private record Filter(int dropPercent, int duplicatePercent, int latency) {
    }

    private final java.util.Map<Long, Filter> filters = new java.util.HashMap<>();

    private Filter filter(int a, int b) {
        return filters.computeIfAbsent(link(a, b), k -> new Filter(
                scenario.has(Scenario.Fault.DROP) ? 2 + random.nextInt(14) : 0,
                scenario.has(Scenario.Fault.DUPLICATE) ? 2 + random.nextInt(14) : 0,
                1 + random.nextInt(4)));
    }
    private long dropped;
    private long duplicated;

    /** @param schedule delivers a message at an absolute simulated time */
    Router(Scenario scenario, Random random, BiConsumer<Long, SimMessage> schedule) {
        this.scenario = scenario;
        this.random = random;
        this.schedule = schedule;
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

    /** Sends a message at {@code now}; it may arrive zero, one or two times. */
    void send(long now, SimMessage m) {
        if (!reachable(m.from(), m.to())) {
            dropped++;
            return;
        }
        Filter f = filter(m.from(), m.to());
        if (random.nextInt(100) < f.dropPercent()) {
            dropped++;
            return;
        }
        schedule.accept(now + delay(f), m);
        if (random.nextInt(100) < f.duplicatePercent()) {
            duplicated++;
            schedule.accept(now + delay(f), m);
        }
    }

    private long delay(Filter f) {
        long d = f.latency() + random.nextInt(3);
        if (scenario.has(Scenario.Fault.REORDER)) {
            d += random.nextInt(60);
        }
        return d;
    }

    long dropped() {
        return dropped;
    }

    long duplicated() {
        return duplicated;
    }
}
