package dev.entente.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The consumer pins and agreements changed while a node runs ({@code peers.json} in its data
 * directory): those added, and the names of those of {@code node.yaml} removed. A node applies
 * them over its configuration at every start, so a restart keeps what an operator changed at run
 * time, and {@code node.yaml} stays as its author wrote it. Immutable: each change returns a new
 * value, which {@link #save} writes whole (to a file beside it, then renamed into place).
 */
public record RuntimePeers(List<NodeConfig.Peer> addedConsumers, List<NodeConfig.AgreementConfig> addedAgreements,
                           Set<String> removedConsumers, Set<String> removedAgreements) {
    public static final String FILE = "peers.json";
    public static final RuntimePeers NONE = new RuntimePeers(List.of(), List.of(), Set.of(), Set.of());

    public RuntimePeers {
        addedConsumers = List.copyOf(addedConsumers);
        addedAgreements = List.copyOf(addedAgreements);
        removedConsumers = Set.copyOf(removedConsumers);
        removedAgreements = Set.copyOf(removedAgreements);
    }

    /**
     * The configuration with these changes: removed names dropped, added peers appended.
     *
     * @throws ConfigException two peers of one kind would share a name (node.yaml gained one
     *     that was added at run time)
     */
    public NodeConfig applyTo(NodeConfig c) {
        List<NodeConfig.Peer> consumers = new ArrayList<>();
        c.consumers().stream().filter(p -> !removedConsumers.contains(p.name())).forEach(consumers::add);
        consumers.addAll(addedConsumers);
        List<NodeConfig.AgreementConfig> agreements = new ArrayList<>();
        c.agreements().stream().filter(a -> !removedAgreements.contains(a.name())).forEach(agreements::add);
        agreements.addAll(addedAgreements);
        List<String> clashes = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        consumers.forEach(p -> {
            if (!seen.add("consumer " + p.name())) {
                clashes.add("consumer '" + p.name() + "' is in node.yaml and was added at run time too");
            }
        });
        agreements.forEach(a -> {
            if (!seen.add("agreement " + a.name())) {
                clashes.add("agreement '" + a.name() + "' is in node.yaml and was added at run time too");
            }
        });
        if (!clashes.isEmpty()) {
            throw new ConfigException(c.dataDirectory().resolve(FILE).toString(), clashes.stream()
                    .map(x -> x + ": remove one of them (from node.yaml, or with entente consumer/agreement remove)").toList());
        }
        return new NodeConfig(c.name(), c.dataDirectory(), c.replicationListen(), c.adminListen(), c.adminToken(), c.adminTokenFile(),
                c.adminLimits(), consumers, agreements, c.engine(), c.backup());
    }

    /**
     * With {@code p} added. A name of node.yaml's that was removed stays removed: the added peer
     * replaces it, and the key unpinned then is never trusted again.
     */
    public RuntimePeers withConsumer(NodeConfig.Peer p) {
        List<NodeConfig.Peer> added = new ArrayList<>(addedConsumers);
        added.add(p);
        return new RuntimePeers(added, addedAgreements, removedConsumers, removedAgreements);
    }

    public RuntimePeers withoutConsumer(String name, boolean fromNodeYaml) {
        List<NodeConfig.Peer> added = addedConsumers.stream().filter(p -> !p.name().equals(name)).toList();
        Set<String> removed = new LinkedHashSet<>(removedConsumers);
        if (fromNodeYaml) {
            removed.add(name);
        }
        return new RuntimePeers(added, addedAgreements, removed, removedAgreements);
    }

    /** With {@code a} added; as {@link #withConsumer}, a removed name of node.yaml's stays removed. */
    public RuntimePeers withAgreement(NodeConfig.AgreementConfig a) {
        List<NodeConfig.AgreementConfig> added = new ArrayList<>(addedAgreements);
        added.add(a);
        return new RuntimePeers(addedConsumers, added, removedConsumers, removedAgreements);
    }

    public RuntimePeers withoutAgreement(String name, boolean fromNodeYaml) {
        List<NodeConfig.AgreementConfig> added = addedAgreements.stream().filter(a -> !a.name().equals(name)).toList();
        Set<String> removed = new LinkedHashSet<>(removedAgreements);
        if (fromNodeYaml) {
            removed.add(name);
        }
        return new RuntimePeers(addedConsumers, added, removedConsumers, removed);
    }

    /** What {@code dataDirectory/peers.json} holds; {@link #NONE} when there is none. */
    public static RuntimePeers load(Path dataDirectory) {
        Path file = dataDirectory.resolve(FILE);
        if (!Files.exists(file)) {
            return NONE;
        }
        try {
            JsonNode root = new ObjectMapper().readTree(Files.readString(file, StandardCharsets.UTF_8));
            List<NodeConfig.Peer> consumers = new ArrayList<>();
            for (JsonNode c : root.path("consumers")) {
                consumers.add(new NodeConfig.Peer(text(c, "name", file), text(c, "certificate", file), "added at run time", c.path("mutual").asBoolean()));
            }
            List<NodeConfig.AgreementConfig> agreements = new ArrayList<>();
            for (JsonNode a : root.path("agreements")) {
                agreements.add(new NodeConfig.AgreementConfig(text(a, "name", file), HostPort.parse(text(a, "supplier", file)),
                        text(a, "certificate", file), "added at run time",
                        "mutual-pull".equals(a.path("mode").asText()) ? NodeConfig.Mode.MUTUAL_PULL : NodeConfig.Mode.PULL,
                        Duration.ofMillis(a.path("intervalMillis").asLong(5000)), a.path("automaticRefresh").asBoolean(true)));
            }
            Set<String> removedConsumers = new LinkedHashSet<>();
            root.path("removedConsumers").forEach(n -> removedConsumers.add(n.asText()));
            Set<String> removedAgreements = new LinkedHashSet<>();
            root.path("removedAgreements").forEach(n -> removedAgreements.add(n.asText()));
            return new RuntimePeers(consumers, agreements, removedConsumers, removedAgreements);
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException(file.toString(), List.of("cannot read the peers changed at run time: " + e.getMessage()
                    + "; fix or delete the file (the node then runs with node.yaml's peers alone)"));
        }
    }

    private static String text(JsonNode n, String key, Path file) {
        JsonNode v = n.get(key);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException(key + " missing in an entry of " + file);
        }
        return v.asText();
    }

    /** Writes {@code dataDirectory/peers.json} owner-only, whole or not at all. */
    public void save(Path dataDirectory) {
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = m.createObjectNode();
        ArrayNode cs = root.putArray("consumers");
        for (NodeConfig.Peer p : addedConsumers) {
            cs.addObject().put("name", p.name()).put("certificate", p.certificatePem()).put("mutual", p.mutual());
        }
        ArrayNode as = root.putArray("agreements");
        for (NodeConfig.AgreementConfig a : addedAgreements) {
            as.addObject().put("name", a.name()).put("supplier", a.supplier().toString()).put("certificate", a.certificatePem())
                    .put("mode", a.mode() == NodeConfig.Mode.PULL ? "pull" : "mutual-pull").put("intervalMillis", a.interval().toMillis())
                    .put("automaticRefresh", a.automaticRefresh());
        }
        removedConsumers.stream().sorted().forEach(root.putArray("removedConsumers")::add);
        removedAgreements.stream().sorted().forEach(root.putArray("removedAgreements")::add);
        Path file = dataDirectory.resolve(FILE);
        Path aside = dataDirectory.resolve(FILE + ".new");
        try {
            Files.deleteIfExists(aside);
            if (java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                Files.createFile(aside, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            }
            Files.writeString(aside, m.writeValueAsString(root) + "\n", StandardCharsets.UTF_8);
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(aside, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(aside, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + file + " (the peers changed at run time): " + e.getMessage()
                    + "; the change was not made", e);
        }
    }
}
