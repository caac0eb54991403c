package dev.entente.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads a node configuration from YAML ({@code .yaml}, {@code .yml}) or JSON and validates all
 * of it at once: every problem is reported with its path ({@code agreements[1].supplier: not a
 * host:port}), unknown keys are errors, not ignored. Relative paths are relative to the
 * configuration file's directory.
 */
public final class ConfigLoader {
    /** A node name: the protocol's rule (PeerText.NODE_NAME), which this module cannot import; a node test keeps the two equal. */
    public static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KiB|MiB|GiB)?");

    private ConfigLoader() {
    }

    public static NodeConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file.toString(), List.of("cannot read the file: " + e.getMessage()));
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean yaml = name.endsWith(".yaml") || name.endsWith(".yml");
        Path base = file.toAbsolutePath().getParent();
        return parse(text, yaml, base, file.toString());
    }

    /** Parses configuration text; {@code base} resolves relative paths. */
    public static NodeConfig parse(String text, boolean yaml, Path base, String source) {
        JsonNode root = read(text, yaml, source);
        return check(root, base, source);
    }

    /** Checks a configuration given as a tree (as {@link ConfigBuilder} makes it), by the rules of a file. */
    static NodeConfig check(JsonNode root, Path base, String source) {
        Walker w = new Walker(base);
        NodeConfig config = w.node(root);
        if (!w.problems.isEmpty()) {
            throw new ConfigException(source, w.problems);
        }
        return config;
    }

    private static JsonNode read(String text, boolean yaml, String source) {
        JsonNode root;
        try {
            // A key given twice is a mistake the reader would otherwise settle silently (the last wins).
            ObjectMapper mapper = yaml ? new ObjectMapper(new YAMLFactory()) : new ObjectMapper();
            mapper.enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            root = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source, List.of("not valid " + (yaml ? "YAML" : "JSON") + ": " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")")));
        }
        return root;
    }

    /** The longest duration a setting takes: a century, far beyond any sensible window or timeout. */
    static final Duration MAX_DURATION = Duration.ofDays(36_500);
    /** The largest size a setting takes: 1 TiB. */
    static final long MAX_SIZE = 1L << 40;

    /** Reads one duration such as {@code 500ms}, {@code 5s}, {@code 10m}, {@code 1h}, {@code 7d}, at most {@link #MAX_DURATION}. */
    public static Duration duration(String text) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a duration (use a number and ms, s, m, h or d, such as 5s or 7d)");
        }
        long unitMillis = switch (m.group(2)) {
            case "ms" -> 1;
            case "s" -> 1000;
            case "m" -> 60_000;
            case "h" -> 3_600_000;
            default -> 86_400_000;
        };
        return Duration.ofMillis(scaled(m.group(1), unitMillis, MAX_DURATION.toMillis(), "too long: at most 36500d"));
    }

    /** {@code digits} times {@code unit}, refused above {@code max} (never wrapped: an overflow is above it). */
    private static long scaled(String digits, long unit, long max, String tooBig) {
        long v;
        try {
            v = Math.multiplyExact(Long.parseLong(digits), unit);
        } catch (ArithmeticException | NumberFormatException e) {
            v = Long.MAX_VALUE;
        }
        if (v > max) {
            throw new IllegalArgumentException(tooBig);
        }
        return v;
    }

    /** Reads a size such as {@code 4096}, {@code 256KiB}, {@code 64MiB}. */
    public static long size(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a size (use bytes, or a number and KiB, MiB or GiB, such as 64MiB)");
        }
        String unit = m.group(2) == null ? "B" : m.group(2);
        long unitBytes = switch (unit) {
            case "KiB" -> 1L << 10;
            case "MiB" -> 1L << 20;
            case "GiB" -> 1L << 30;
            default -> 1;
        };
        return scaled(m.group(1), unitBytes, MAX_SIZE, "too large: at most 1024GiB");
    }

    /** Walks the tree, collecting every problem with its path. */
    private static final class Walker {
        final List<String> problems = new ArrayList<>();
        final Path base;

        Walker(Path base) {
            this.base = base;
        }

        void problem(String path, String what) {
            problems.add(path + ": " + what);
        }

        ObjectNode object(JsonNode n, String path) {
            if (n == null || n.isNull() || n.isMissingNode()) {
                return null;
            }
            if (!n.isObject()) {
                problem(path, "expected a mapping of keys to values");
                return null;
            }
            return (ObjectNode) n;
        }

        void onlyKeys(ObjectNode o, String path, String... keys) {
            Set<String> known = new HashSet<>(List.of(keys));
            for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!known.contains(k)) {
                    problem(path.isEmpty() ? k : path + "." + k, "unknown key; known keys here: " + String.join(", ", keys));
                }
            }
        }

        String string(ObjectNode o, String path, String key, String fallback) {
            JsonNode n = o == null ? null : o.get(key);
            String p = path.isEmpty() ? key : path + "." + key;
            if (n == null || n.isNull()) {
                if (fallback == null) {
                    problem(p, "missing; it is required");
                }
                return fallback;
            }
            if (!n.isTextual() && !n.isNumber() && !n.isBoolean()) {
                problem(p, "expected a single value");
                return fallback;
            }
            return n.asText();
        }

        boolean bool(ObjectNode o, String path, String key, boolean fallback) {
            JsonNode n = o == null ? null : o.get(key);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isBoolean()) {
                problem(path + "." + key, "expected true or false");
                return fallback;
            }
            return n.asBoolean();
        }

        /** A whole number from {@code min} to {@code max}; the fallback when absent or wrong. */
        int integer(ObjectNode o, String path, String key, int fallback, int min, int max) {
            JsonNode n = o == null ? null : o.get(key);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < min || n.asLong() > max) {
                problem(path + "." + key, "expected a whole number from " + min + " to " + max + ", got " + n);
                return fallback;
            }
            return n.asInt();
        }

        Duration duration(ObjectNode o, String path, String key, Duration fallback) {
            return positive(o, path, key, fallback, ConfigLoader::duration, d -> !d.isZero());
        }

        long size(ObjectNode o, String path, String key, long fallback) {
            return positive(o, path, key, fallback, ConfigLoader::size, v -> v > 0);
        }

        /** A value parsed from its text, which must be more than zero; the fallback when absent or wrong. */
        private <T> T positive(ObjectNode o, String path, String key, T fallback,
                               java.util.function.Function<String, T> parse, java.util.function.Predicate<T> moreThanZero) {
            String s = string(o, path, key, fallback == null ? null : "");
            if (s == null || s.isEmpty()) {
                return fallback;
            }
            try {
                T v = parse.apply(s);
                if (!moreThanZero.test(v)) {
                    problem(path + "." + key, "must be more than zero");
                    return fallback;
                }
                return v;
            } catch (IllegalArgumentException e) {
                problem(path + "." + key, "'" + s + "' is " + e.getMessage());
                return fallback;
            }
        }

        HostPort hostPort(ObjectNode o, String path, String key, String fallback) {
            String s = string(o, path, key, fallback);
            if (s == null) {
                return null;
            }
            try {
                return HostPort.parse(s);
            } catch (IllegalArgumentException e) {
                problem(path + "." + key, "'" + s + "' is " + e.getMessage());
                return null;
            }
        }

        String name(ObjectNode o, String path, String key) {
            String s = string(o, path, key, null);
            if (s != null && !NODE_NAME.matcher(s).matches()) {
                problem(path.isEmpty() ? key : path + "." + key, "'" + s + "' is not a valid name: use 1 to 64 letters, digits, '_', '.', '-'");
            }
            return s;
        }

        /** A certificate given inline (PEM) or as a file path. */
        String[] certificate(ObjectNode o, String path) {
            String s = string(o, path, "certificate", null);
            if (s == null) {
                return new String[] {null, null};
            }
            String pem;
            String sourceName;
            if (s.contains("-----BEGIN")) {
                pem = s;
                sourceName = "inline";
            } else {
                Path file = base.resolve(s);
                sourceName = s;
                try {
                    pem = Files.readString(file, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    problem(path + ".certificate", "cannot read " + file + ": " + e.getMessage() + " (give a PEM file, or the PEM text itself)");
                    return new String[] {null, sourceName};
                }
            }
            if (!pem.contains("-----BEGIN CERTIFICATE-----")) {
                problem(path + ".certificate", sourceName + " does not hold a PEM certificate (-----BEGIN CERTIFICATE-----); "
                        + "'entente cert show' on that node prints it");
                return new String[] {null, sourceName};
            }
            return new String[] {pem, sourceName};
        }

        NodeConfig node(JsonNode rootNode) {
            ObjectNode root = object(rootNode, "(top level)");
            if (root == null) {
                problem("(top level)", "the configuration is empty or not a mapping");
                return null;
            }
            onlyKeys(root, "", "name", "dataDirectory", "replication", "agreements", "admin", "engine", "backup");
            String name = name(root, "", "name");
            String data = string(root, "", "dataDirectory", null);
            Path dataDirectory = data == null ? null : base.resolve(data).normalize();

            ObjectNode replication = object(root.get("replication"), "replication");
            if (replication == null) {
                problem("replication", "missing; it is required (replication.listen at least)");
            } else {
                onlyKeys(replication, "replication", "listen", "consumers");
            }
            HostPort listen = replication == null ? null : hostPort(replication, "replication", "listen", null);
            List<NodeConfig.Peer> consumers = new ArrayList<>();
            Set<String> consumerNames = new HashSet<>();
            JsonNode cs = replication == null ? null : replication.get("consumers");
            if (cs != null && !cs.isNull()) {
                if (!cs.isArray()) {
                    problem("replication.consumers", "expected a list");
                } else {
                    for (int i = 0; i < cs.size(); i++) {
                        String p = "replication.consumers[" + i + "]";
                        ObjectNode c = object(cs.get(i), p);
                        if (c == null) {
                            continue;
                        }
                        onlyKeys(c, p, "name", "certificate", "mutual");
                        String n = name(c, p, "name");
                        if (n != null && !consumerNames.add(n)) {
                            problem(p + ".name", "'" + n + "' is listed twice");
                        }
                        String[] cert = certificate(c, p);
                        consumers.add(new NodeConfig.Peer(n, cert[0], cert[1], bool(c, p, "mutual", false)));
                    }
                }
            }

            List<NodeConfig.AgreementConfig> agreements = new ArrayList<>();
            Set<String> agreementNames = new HashSet<>();
            JsonNode as = root.get("agreements");
            if (as != null && !as.isNull()) {
                if (!as.isArray()) {
                    problem("agreements", "expected a list");
                } else {
                    for (int i = 0; i < as.size(); i++) {
                        String p = "agreements[" + i + "]";
                        ObjectNode a = object(as.get(i), p);
                        if (a == null) {
                            continue;
                        }
                        onlyKeys(a, p, "name", "supplier", "certificate", "mode", "interval", "automaticRefresh");
                        String n = name(a, p, "name");
                        if (n != null && !agreementNames.add(n)) {
                            problem(p + ".name", "'" + n + "' is used by another agreement");
                        }
                        HostPort supplier = hostPort(a, p, "supplier", null);
                        String[] cert = certificate(a, p);
                        String mode = string(a, p, "mode", "pull");
                        NodeConfig.Mode m = switch (mode) {
                            case "pull" -> NodeConfig.Mode.PULL;
                            case "mutual-pull" -> NodeConfig.Mode.MUTUAL_PULL;
                            default -> {
                                problem(p + ".mode", "'" + mode + "' is not a mode; use pull or mutual-pull");
                                yield NodeConfig.Mode.PULL;
                            }
                        };
                        Duration interval = duration(a, p, "interval", Duration.ofSeconds(5));
                        boolean automaticRefresh = bool(a, p, "automaticRefresh", true);
                        agreements.add(new NodeConfig.AgreementConfig(n, supplier, cert[0], cert[1], m, interval, automaticRefresh));
                    }
                }
            }

            ObjectNode admin = object(root.get("admin"), "admin");
            if (admin != null) {
                onlyKeys(admin, "admin", "listen", "token", "tokenFile", "maxConnections", "idleTimeout");
            }
            // "off": no admin server (an embedding server that has its own API); then no token either.
            boolean adminOff = "off".equals(string(admin, "admin", "listen", ""));
            HostPort adminListen = adminOff ? null : hostPort(admin, "admin", "listen", "127.0.0.1:7480");
            NodeConfig.AdminLimits adminLimits = new NodeConfig.AdminLimits(
                    integer(admin, "admin", "maxConnections", NodeConfig.AdminLimits.DEFAULTS.maxConnections(), 1, 65_536),
                    duration(admin, "admin", "idleTimeout", NodeConfig.AdminLimits.DEFAULTS.idleTimeout()));
            String inlineToken = string(admin, "admin", "token", "");
            String tokenFile = string(admin, "admin", "tokenFile", "");
            NodeConfig.Secret token = null;
            Path tokenPath = null;
            if (!inlineToken.isEmpty() && !tokenFile.isEmpty()) {
                problem("admin", "give either token or tokenFile, not both");
            } else if (!tokenFile.isEmpty()) {
                tokenPath = base.resolve(tokenFile).normalize();
                try {
                    String t = Files.readString(tokenPath, StandardCharsets.UTF_8).trim();
                    if (t.length() < 16) {
                        problem("admin.tokenFile", tokenPath + " holds a token of " + t.length() + " characters; use at least 16 (entente init makes one)");
                    } else if (t.chars().anyMatch(Character::isWhitespace)) {
                        problem("admin.tokenFile", tokenPath + " holds a token with spaces or line breaks inside; a bearer token is one word");
                    }
                    token = new NodeConfig.Secret(t);
                } catch (IOException e) {
                    problem("admin.tokenFile", "cannot read " + tokenPath + ": " + e.getMessage());
                }
            } else if (!inlineToken.isEmpty()) {
                if (inlineToken.trim().length() < 16) {
                    problem("admin.token", "the token has " + inlineToken.trim().length() + " characters besides spaces; use at least 16");
                } else if (inlineToken.chars().anyMatch(Character::isWhitespace)) {
                    problem("admin.token", "the token has spaces or line breaks; a bearer token is one word");
                }
                token = new NodeConfig.Secret(inlineToken);
            } else if (!adminOff) {
                problem("admin.tokenFile", "missing: the admin API needs a bearer token (admin.tokenFile, or admin.token)");
            }

            ObjectNode engine = object(root.get("engine"), "engine");
            NodeConfig.EngineSettings d = NodeConfig.EngineSettings.DEFAULTS;
            NodeConfig.EngineSettings settings = d;
            if (engine != null) {
                onlyKeys(engine, "engine", "window", "maxClockSkew", "syncWrites", "blockCache", "writeBuffer", "maxValueSize", "maxTransactionSize",
                        "stopAfterStoreFailure");
                Duration window = duration(engine, "engine", "window", d.window());
                Duration skew = duration(engine, "engine", "maxClockSkew", d.maxClockSkew());
                if (skew.compareTo(window) >= 0) {
                    problem("engine.maxClockSkew", skew + " must be shorter than the window (" + window + ")");
                }
                long maxValue = size(engine, "engine", "maxValueSize", d.maxValueBytes());
                long maxTransaction = size(engine, "engine", "maxTransactionSize", d.maxTransactionBytes());
                if (maxValue > maxTransaction) {
                    problem("engine.maxValueSize", "must not be more than engine.maxTransactionSize");
                }
                if (maxTransaction > Integer.MAX_VALUE) {
                    problem("engine.maxTransactionSize", "must be under 2 GiB");
                }
                settings = new NodeConfig.EngineSettings(window, skew, bool(engine, "engine", "syncWrites", d.syncWrites()),
                        size(engine, "engine", "blockCache", d.blockCacheBytes()), size(engine, "engine", "writeBuffer", d.writeBufferBytes()),
                        (int) Math.min(Integer.MAX_VALUE, maxValue), (int) Math.min(Integer.MAX_VALUE, maxTransaction),
                        duration(engine, "engine", "stopAfterStoreFailure", d.stopAfterStoreFailure()));
            }
            if (!problems.isEmpty()) {
                return null;
            }
            ObjectNode backupNode = object(root.get("backup"), "backup");
            if (backupNode != null) {
                onlyKeys(backupNode, "backup", "directory", "every", "keep");
            }
            String backupDir = string(backupNode, "backup", "directory", "");
            NodeConfig.BackupSettings backup = new NodeConfig.BackupSettings(
                    backupDir.isEmpty() ? (dataDirectory == null ? null : dataDirectory.resolve("backups")) : base.resolve(backupDir).normalize(),
                    Optional.of(duration(backupNode, "backup", "every", Duration.ZERO)).filter(every -> !every.isZero()).orElse(null),
                    integer(backupNode, "backup", "keep", 0, 0, 100_000));
            return new NodeConfig(name, dataDirectory, listen, adminListen, token, tokenPath, adminLimits, consumers, agreements, settings, backup);
        }
    }
}
