package dev.entente.testkit.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one workload measured: its parameters, its figures, the raw limits they are compared with,
 * the ratios, and the checks that passed before any figure was printed. {@code lines} is the
 * human table's text for it.
 */
record Result(String workload, String title, Map<String, Object> parameters, Map<String, Object> figures,
              Map<String, Object> limits, Map<String, Object> ratios, Map<String, Object> checks, Map<String, Object> memory,
              List<String> lines) {

    static Builder builder(String workload, String title) {
        return new Builder(workload, title);
    }

    String json(Map<String, Object> machine) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("workload", workload);
        o.put("title", title);
        o.put("parameters", parameters);
        o.put("figures", figures);
        o.put("limits", limits);
        o.put("ratios", ratios);
        o.put("checks", checks);
        o.put("memory", memory);
        o.put("machine", machine);
        try {
            return new ObjectMapper().writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the result of " + workload + " as JSON", e);
        }
    }

    static final class Builder {
        private final String workload;
        private final String title;
        private final Map<String, Object> parameters = new LinkedHashMap<>();
        private final Map<String, Object> figures = new LinkedHashMap<>();
        private final Map<String, Object> limits = new LinkedHashMap<>();
        private final Map<String, Object> ratios = new LinkedHashMap<>();
        private final Map<String, Object> checks = new LinkedHashMap<>();
        private final Map<String, Object> memory = new LinkedHashMap<>();
        private final List<String> lines = new ArrayList<>();

        private Builder(String workload, String title) {
            this.workload = workload;
            this.title = title;
        }

        Builder parameter(String name, Object value) {
            parameters.put(name, value);
            return this;
        }

        Builder figure(String name, double value) {
            figures.put(name, round(value));
            return this;
        }

        Builder limit(String name, double value) {
            limits.put(name, round(value));
            return this;
        }

        Builder ratio(String name, double value) {
            ratios.put(name, Math.round(value * 10000) / 10000.0);
            return this;
        }

        Builder check(String name, Object value) {
            checks.put(name, value);
            return this;
        }

        /**
         * Each node's memory at the end of the workload (MiB; -1: not measured here), in the JSON's
         * {@code memory} and as a line of the table.
         */
        Builder memory(Map<String, NodeHandle.Memory> nodes) {
            StringBuilder text = new StringBuilder();
            nodes.forEach((name, m) -> {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("peak_rss_mib", mib(m.peakRssBytes()));
                o.put("rss_mib", mib(m.rssBytes()));
                o.put("peak_heap_mib", mib(m.peakHeapBytes()));
                memory.put(name, o);
                text.append(text.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT, "%s peak RSS %s, heap %s", name,
                        m.peakRssBytes() < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f MiB", mib(m.peakRssBytes())),
                        String.format(Locale.ROOT, "%.0f MiB", mib(m.peakHeapBytes()))));
            });
            return line("memory per node", "%s", text);
        }

        private static double mib(long bytes) {
            return bytes < 0 ? -1 : Math.round(bytes / 1048576.0 * 10) / 10.0;
        }

        /** A line of the human table, formatted with {@link Locale#ROOT}. */
        Builder line(String label, String format, Object... args) {
            lines.add(String.format(Locale.ROOT, "  %-22s %s", label, String.format(Locale.ROOT, format, args)));
            return this;
        }

        Result build() {
            return new Result(workload, title, new LinkedHashMap<>(parameters),
                    new LinkedHashMap<>(figures), new LinkedHashMap<>(limits), new LinkedHashMap<>(ratios), new LinkedHashMap<>(checks),
                    new LinkedHashMap<>(memory), List.copyOf(lines));
        }

        private static double round(double v) {
            return v >= 100 ? Math.round(v * 10) / 10.0 : Math.round(v * 1000) / 1000.0;
        }
    }
}
