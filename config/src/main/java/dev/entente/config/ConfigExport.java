package dev.entente.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The effective configuration (defaults filled in) as a document, with secrets redacted, and a
 * stable SHA-256 of it so that operators can check that nodes run what they think.
 */
public final class ConfigExport {
    private ConfigExport() {
    }

    /** The effective configuration as an ordered tree of plain values. */
    public static Map<String, Object> tree(NodeConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", c.name());
        m.put("dataDirectory", c.dataDirectory().toString());
        Map<String, Object> replication = new LinkedHashMap<>();
        replication.put("listen", c.replicationListen().toString());
        List<Object> consumers = new ArrayList<>();
        for (NodeConfig.Peer p : c.consumers()) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("name", p.name());
            pm.put("certificate", p.certificateSource());
            pm.put("publicKeySha256", publicKeyFingerprint(p.certificatePem()));
            if (p.mutual()) {
                pm.put("mutual", true);
            }
            consumers.add(pm);
        }
        replication.put("consumers", consumers);
        m.put("replication", replication);
        List<Object> agreements = new ArrayList<>();
        for (NodeConfig.AgreementConfig a : c.agreements()) {
            Map<String, Object> am = new LinkedHashMap<>();
            am.put("name", a.name());
            am.put("supplier", a.supplier().toString());
            am.put("certificate", a.certificateSource());
            am.put("publicKeySha256", publicKeyFingerprint(a.certificatePem()));
            am.put("mode", a.mode() == NodeConfig.Mode.PULL ? "pull" : "mutual-pull");
            am.put("interval", duration(a.interval()));
            am.put("automaticRefresh", a.automaticRefresh());
            agreements.add(am);
        }
        m.put("agreements", agreements);
        Map<String, Object> admin = new LinkedHashMap<>();
        admin.put("listen", c.adminListen() == null ? "off" : c.adminListen().toString());
        if (c.adminTokenFile() != null) {
            admin.put("tokenFile", c.adminTokenFile().toString());
        } else if (c.adminToken() != null) {
            admin.put("token", "<redacted>");
        }
        admin.put("maxConnections", c.adminLimits().maxConnections());
        admin.put("idleTimeout", duration(c.adminLimits().idleTimeout()));
        m.put("admin", admin);
        Map<String, Object> backup = new LinkedHashMap<>();
        backup.put("directory", String.valueOf(c.backup().directory()));
        if (c.backup().every() != null) {
            backup.put("every", duration(c.backup().every()));
        }
        backup.put("keep", c.backup().keep());
        m.put("backup", backup);
        NodeConfig.EngineSettings e = c.engine();
        Map<String, Object> engine = new LinkedHashMap<>();
        engine.put("window", duration(e.window()));
        engine.put("maxClockSkew", duration(e.maxClockSkew()));
        engine.put("syncWrites", e.syncWrites());
        engine.put("blockCache", e.blockCacheBytes());
        engine.put("writeBuffer", e.writeBufferBytes());
        engine.put("maxValueSize", e.maxValueBytes());
        engine.put("maxTransactionSize", e.maxTransactionBytes());
        engine.put("stopAfterStoreFailure", duration(e.stopAfterStoreFailure()));
        m.put("engine", engine);
        return m;
    }

    public static String yaml(NodeConfig c) {
        try {
            return new ObjectMapper(new YAMLFactory()).writeValueAsString(tree(c));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the configuration as YAML", e);
        }
    }

    public static String json(NodeConfig c) {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(tree(c));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the configuration as JSON", e);
        }
    }

    /** SHA-256 of the compact JSON of the effective configuration, secrets left out: equal configurations, equal hashes. */
    public static String hash(NodeConfig c) {
        try {
            String compact = new ObjectMapper().writeValueAsString(tree(c));
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(compact.getBytes(StandardCharsets.UTF_8)));
        } catch (JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot hash the configuration", e);
        }
    }

    /**
     * SHA-256 of the public key (its DER encoding) of the certificate in a PEM text: what pins
     * compare, and what {@code entente init} and {@code entente cert show} print.
     */
    static String publicKeyFingerprint(String pem) {
        try {
            java.security.cert.Certificate c = java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(new java.io.ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getPublicKey().getEncoded()));
        } catch (java.security.cert.CertificateException | NoSuchAlgorithmException e) {
            return "unreadable";
        }
    }

    /** A duration as the configuration writes it: 90s, 5m, 7d. */
    public static String duration(Duration d) {
        long ms = d.toMillis();
        if (ms % 86_400_000 == 0) {
            return ms / 86_400_000 + "d";
        }
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
