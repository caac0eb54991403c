package dev.entente.testkit.sim;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The in-memory network: delivers each message after a delay, and, as the scenario's faults
 * say, drops, duplicates or reorders it (by a random extra delay) or blocks it across a
 * partition. All choices come from the simulation's one random source.
 */
final class Router {
    private final Scenario scenario;
    private final Random random;
    private final BiConsumer<Long, SimMessage> schedule;
    private final Set<Long> blocked = new HashSet<>();
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
        if (scenario.has(Scenario.Fault.DROP) && random.nextInt(100) < 8) {
            dropped++;
            return;
        }
        schedule.accept(now + delay(), m);
        if (scenario.has(Scenario.Fault.DUPLICATE) && random.nextInt(100) < 8) {
            duplicated++;
            schedule.accept(now + delay(), m);
        }
    }

    private long delay() {
        long d = 1 + random.nextInt(4);
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
