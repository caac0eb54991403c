package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The engine's packages depend on each other one way, so each can be read knowing only those
 * below it: {@code error} and {@code clock} at the bottom, {@code merge} on the clock, the root
 * package (the public API over the store) on those, the replication sessions on top. Java allows
 * a cross-package reference only through an import or a qualified name, and both are read here
 * from the sources.
 */
class PackageCyclesTest {
    private static final String BASE = "dev.entente.engine";
    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    /** An import or a qualified name of an engine type: the package is the part before the first capital. */
    private static final Pattern REFERENCE = Pattern.compile("(?<![\\w.])dev\\.entente\\.engine((?:\\.[a-z]\\w*)*)\\.(?:[A-Z]|\\*)");

    @Test
    void theEnginePackagesDependOnEachOtherOneWay() throws IOException {
        Map<String, Map<String, String>> edges = dependencies(Path.of("src/main/java"));
        assertTrue(edges.containsKey(BASE + ".clock") && edges.containsKey(BASE + ".session"), "the sources were read: " + edges.keySet());
        List<String> cycle = findCycle(edges);
        assertTrue(cycle.isEmpty(), () -> "the engine's packages depend on each other in a cycle: " + describe(cycle, edges));
    }

    @Test
    void aCycleIsFoundAndNamesTheFilesThatMakeIt() {
        Map<String, Map<String, String>> edges = new TreeMap<>();
        edges.computeIfAbsent("a", k -> new TreeMap<>()).put("b", "A.java");
        edges.computeIfAbsent("b", k -> new TreeMap<>()).put("c", "B.java");
        edges.computeIfAbsent("c", k -> new TreeMap<>()).put("a", "C.java");
        edges.computeIfAbsent("c", k -> new TreeMap<>()).put("d", "D.java");
        List<String> cycle = findCycle(edges);
        assertEquals(Set.of("a", "b", "c"), Set.copyOf(cycle));
        assertTrue(describe(cycle, edges).contains("C.java"), describe(cycle, edges));
        edges.get("c").remove("a");
        assertTrue(findCycle(edges).isEmpty());
    }

    /** For each package, the packages it references, each with one file that does. */
    private static Map<String, Map<String, String>> dependencies(Path sources) throws IOException {
        Map<String, Map<String, String>> edges = new TreeMap<>();
        try (Stream<Path> files = Files.walk(sources)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                String src = Files.readString(f);
                Matcher pm = PACKAGE.matcher(src);
                if (!pm.find()) {
                    continue;
                }
                String own = pm.group(1);
                Map<String, String> out = edges.computeIfAbsent(own, k -> new TreeMap<>());
                Matcher m = REFERENCE.matcher(src);
                while (m.find()) {
                    String target = BASE + m.group(1);
                    if (!target.equals(own)) {
                        out.putIfAbsent(target, sources.relativize(f).toString());
                    }
                }
            }
        }
        return edges;
    }

    /** One cycle of packages, in order, or empty when there is none. */
    private static List<String> findCycle(Map<String, Map<String, String>> edges) {
        Set<String> done = new TreeSet<>();
        for (String start : edges.keySet()) {
            List<String> path = new ArrayList<>();
            List<String> cycle = visit(start, edges, done, path);
            if (!cycle.isEmpty()) {
                return cycle;
            }
        }
        return List.of();
    }

    private static List<String> visit(String p, Map<String, Map<String, String>> edges, Set<String> done, List<String> path) {
        int at = path.indexOf(p);
        if (at >= 0) {
            return new ArrayList<>(path.subList(at, path.size()));
        }
        if (done.contains(p)) {
            return List.of();
        }
        path.add(p);
        for (String next : edges.getOrDefault(p, Map.of()).keySet()) {
            List<String> cycle = visit(next, edges, done, path);
            if (!cycle.isEmpty()) {
                return cycle;
            }
        }
        path.remove(path.size() - 1);
        done.add(p);
        return List.of();
    }

    private static String describe(List<String> cycle, Map<String, Map<String, String>> edges) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cycle.size(); i++) {
            String from = cycle.get(i);
            String to = cycle.get((i + 1) % cycle.size());
            sb.append("\n  ").append(from).append(" -> ").append(to).append(" (").append(edges.get(from).get(to)).append(')');
        }
        return sb.toString();
    }
}
