package dev.entente.testkit.sim;

import java.util.ArrayList;
import java.util.List;

/** How nodes are connected; every connection is a pull agreement both ways. */
public enum Topology {
    CHAIN, STAR, RING, FULL_MESH;

    /** The connected pairs {a, b} with a < b. */
    public List<int[]> edges(int n) {
        List<int[]> edges = new ArrayList<>();
        switch (this) {
            case CHAIN -> {
                for (int i = 0; i + 1 < n; i++) {
                    edges.add(new int[] {i, i + 1});
                }
            }
            case STAR -> {
                for (int i = 1; i < n; i++) {
                    edges.add(new int[] {0, i});
                }
            }
            case RING -> {
                for (int i = 0; i + 1 < n; i++) {
                    edges.add(new int[] {i, i + 1});
                }
                if (n > 2) {
                    edges.add(new int[] {0, n - 1});
                }
            }
            case FULL_MESH -> {
                for (int i = 0; i < n; i++) {
                    for (int j = i + 1; j < n; j++) {
                        edges.add(new int[] {i, j});
                    }
                }
            }
        }
        return edges;
    }
}
