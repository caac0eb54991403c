package dev.entente.config;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;

/**
 * A node's configuration built in code, for a server that embeds a node and keeps its settings
 * elsewhere: each setting under the name {@code node.yaml} gives it, checked by the same rules,
 * with the same messages ({@link #build} lists every problem with its path, as a file's would).
 * Certificates are PEM text or paths; relative paths are resolved against the data directory.
 *
 * <pre>{@code
 * NodeConfig c = ConfigBuilder.node("idm-2", dataDir)
 *         .listen("0.0.0.0:7400")
 *         .consumer("idm-1", idm1CertificatePem)
 *         .agreement("from-idm-1", "idm-1.example.org:7400", idm1CertificatePem)
 *         .adminOff()
 *         .setting("engine.window", "14d")
 *         .build();
 * }</pre>
 */
public final class ConfigBuilder {
    private final ObjectNode root = JsonNodeFactory.instance.objectNode();
    private final ObjectNode replication = root.putObject("replication");
    private final ArrayNode consumers = replication.putArray("consumers");
    private final ArrayNode agreements = root.putArray("agreements");
    private final Path base;

    private ConfigBuilder(String name, Path dataDirectory) {
        this.base = dataDirectory.toAbsolutePath().normalize();
        root.put("name", name);
        root.put("dataDirectory", base.toString());
    }

    /** A node named {@code name} keeping its identity, store and logs in {@code dataDirectory}. */
    public static ConfigBuilder node(String name, Path dataDirectory) {
        return new ConfigBuilder(name, dataDirectory);
    }

    /** {@code replication.listen}: where the node serves its consumers, as host:port. */
    public ConfigBuilder listen(String hostPort) {
        replication.put("listen", hostPort);
        return this;
    }

    /** A pinned consumer ({@code replication.consumers}): a peer that may pull from this node. */
    public ConfigBuilder consumer(String name, String certificate) {
        consumers.addObject().put("name", name).put("certificate", certificate);
        return this;
    }

    /** A pinned consumer that may also ask this node to pull from it ({@code mutual: true}). */
    public ConfigBuilder mutualConsumer(String name, String certificate) {
        consumers.addObject().put("name", name).put("certificate", certificate).put("mutual", true);
        return this;
    }

    /** An agreement: this node pulls from the supplier at host:port, whose certificate it pins (the defaults of node.yaml otherwise). */
    public ConfigBuilder agreement(String name, String supplier, String certificate) {
        agreements.addObject().put("name", name).put("supplier", supplier).put("certificate", certificate);
        return this;
    }

    /** {@code admin.listen} and the bearer token of the admin API. */
    public ConfigBuilder admin(String hostPort, String token) {
        admin().put("listen", hostPort).put("token", token);
        return this;
    }

    /** No admin server ({@code admin.listen: off}): the embedding server has its own API. */
    public ConfigBuilder adminOff() {
        admin().put("listen", "off");
        return this;
    }

    /**
     * Any other setting by its path in node.yaml, with its value as the file would write it:
     * {@code setting("engine.window", "14d")}, {@code setting("agreements[0].interval", "1s")},
     * {@code setting("backup.every", "1d")}; a number or a flag with the overloads below.
     */
    public ConfigBuilder setting(String path, String value) {
        parent(path).put(last(path), value);
        return this;
    }

    /** A setting that is a number: {@code setting("admin.maxConnections", 256)}. */
    public ConfigBuilder setting(String path, long value) {
        parent(path).put(last(path), value);
        return this;
    }

    /** A setting that is true or false: {@code setting("engine.syncWrites", true)}. */
    public ConfigBuilder setting(String path, boolean value) {
        parent(path).put(last(path), value);
        return this;
    }

    private ObjectNode parent(String path) {
        ObjectNode at = root;
        String[] parts = path.split("\\.");
        for (int i = 0; i < parts.length - 1; i++) {
            at = child(at, parts[i], path);
        }
        return at;
    }

    private static String last(String path) {
        String last = path.substring(path.lastIndexOf('.') + 1);
        if (last.endsWith("]")) {
            throw new IllegalArgumentException("setting '" + path + "' names a list item, not a setting: name a key inside it");
        }
        return last;
    }

    private ObjectNode child(ObjectNode at, String part, String path) {
        int bracket = part.indexOf('[');
        if (bracket < 0) {
            return at.has(part) && at.get(part).isObject() ? (ObjectNode) at.get(part) : at.putObject(part);
        }
        String key = part.substring(0, bracket);
        int index;
        try {
            index = Integer.parseInt(part.substring(bracket + 1, part.length() - 1));
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("setting '" + path + "': '" + part + "' is not key[index]");
        }
        if (!(at.get(key) instanceof ArrayNode list) || index < 0 || index >= list.size()) {
            throw new IllegalArgumentException("setting '" + path + "': there is no " + part + " (add the item first)");
        }
        return (ObjectNode) list.get(index);
    }

    private ObjectNode admin() {
        return root.has("admin") ? (ObjectNode) root.get("admin") : root.putObject("admin");
    }

    /** The configuration, checked. @throws ConfigException listing every problem with its path */
    public NodeConfig build() {
        return ConfigLoader.check(root.deepCopy(), base, "the configuration of node '" + root.path("name").asText() + "' built in code");
    }
}
