package dev.entente.testkit.sim;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One simulated run, fully determined by these fields: the seed drives every random choice
 * (workload, schedule, faults, ids), so a scenario replays exactly.
 *
 * @param nodes 2 to 7
 * @param hub node 0 is a transport hub that accepts no local writes
 * @param writes local write attempts spread over the active phase
 */
public record Scenario(long seed, int nodes, Topology topology, boolean hub, int writes, Set<Fault> faults) {

    /**
     * {@code LONG_SPLIT}: partitions last up to 7 s instead of 2 s, so that with {@code TRIM}
     * (a 4 s window) both sides may trim changes the other lacks.
     */
    public enum Fault { DROP, DUPLICATE, REORDER, CUT, PARTITION, LONG_SPLIT, CRASH, CLOCK_SKEW, TRIM }

    public Scenario {
        if (nodes < 2 || nodes > 7) {
            throw new IllegalArgumentException("nodes must be 2 to 7, got " + nodes);
        }
        if (writes < 0) {
            throw new IllegalArgumentException("writes must not be negative, got " + writes);
        }
        faults = faults.isEmpty() ? EnumSet.noneOf(Fault.class) : EnumSet.copyOf(faults);
    }

    public boolean has(Fault f) {
        return faults.contains(f);
    }

    /** The scenario in the form {@link #parse} reads. */
    public String spec() {
        List<String> f = new ArrayList<>();
        faults.forEach(x -> f.add(x.name().toLowerCase(Locale.ROOT)));
        return "seed=" + seed + " nodes=" + nodes + " topology=" + topology.name().toLowerCase(Locale.ROOT).replace('_', '-')
                + " hub=" + hub + " writes=" + writes + " faults=" + (f.isEmpty() ? "none" : String.join(",", f));
    }

    /** The one-line command that replays this scenario. */
    public String replayCommand() {
        return "bin/entente simulate " + spec();
    }

    public static Scenario parse(String spec) {
        long seed = 0;
        int nodes = 3;
        Topology topology = Topology.FULL_MESH;
        boolean hub = false;
        int writes = 30;
        Set<Fault> faults = EnumSet.noneOf(Fault.class);
        for (String part : spec.trim().split("\\s+")) {
            String[] kv = part.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("expected key=value, got '" + part + "'");
            }
            switch (kv[0]) {
                case "seed" -> seed = Long.parseLong(kv[1]);
                case "nodes" -> nodes = Integer.parseInt(kv[1]);
                case "topology" -> topology = Topology.valueOf(kv[1].toUpperCase(Locale.ROOT).replace('-', '_'));
                case "hub" -> hub = Boolean.parseBoolean(kv[1]);
                case "writes" -> writes = Integer.parseInt(kv[1]);
                case "faults" -> {
                    if (!kv[1].equals("none")) {
                        for (String f : kv[1].split(",")) {
                            faults.add(Fault.valueOf(f.toUpperCase(Locale.ROOT).replace('-', '_')));
                        }
                    }
                }
                default -> throw new IllegalArgumentException("unknown scenario key '" + kv[0] + "'; keys: seed nodes topology hub writes faults");
            }
        }
        return new Scenario(seed, nodes, topology, hub, writes, faults);
    }

    @Override
    public String toString() {
        return spec();
    }
}
