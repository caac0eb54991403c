package dev.entente.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    static final String PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIQ\n-----END CERTIFICATE-----\n";

    @TempDir
    Path dir;

    @BeforeEach
    void files() throws Exception {
        Files.writeString(dir.resolve("b.pem"), PEM);
        Files.writeString(dir.resolve("admin.token"), "0123456789abcdef0123\n");
    }

    static final String VALID = """
            name: site-a
            dataDirectory: data/a
            replication:
              listen: 0.0.0.0:7400
              consumers:
                - name: site-b
                  certificate: b.pem
            agreements:
              - name: from-b
                supplier: site-b.example.org:7400
                certificate: b.pem
                mode: mutual-pull
                interval: 2s
            admin:
              tokenFile: admin.token
            engine:
              window: 3d
              blockCache: 32MiB
            """;

    @Test
    void aValidYamlConfigurationLoadsWithDefaultsFilledIn() throws Exception {
        Files.writeString(dir.resolve("node.yaml"), VALID);
        NodeConfig c = ConfigLoader.load(dir.resolve("node.yaml"));
        assertEquals("site-a", c.name());
        assertEquals(dir.resolve("data/a"), c.dataDirectory());
        assertEquals(new HostPort("0.0.0.0", 7400), c.replicationListen());
        assertEquals(new HostPort("127.0.0.1", 7480), c.adminListen());
        assertEquals("0123456789abcdef0123", c.adminToken().value());
        assertEquals("<redacted>", c.adminToken().toString());
        assertEquals(NodeConfig.Mode.MUTUAL_PULL, c.agreements().get(0).mode());
        assertEquals(Duration.ofSeconds(2), c.agreements().get(0).interval());
        assertTrue(c.agreements().get(0).automaticRefresh());
        assertEquals(PEM, c.consumers().get(0).certificatePem());
        assertEquals(Duration.ofDays(3), c.engine().window());
        assertEquals(32L << 20, c.engine().blockCacheBytes());
        assertEquals(Duration.ofMinutes(5), c.engine().maxClockSkew());
    }

    @Test
    void everyProblemIsReportedWithItsPath() throws Exception {
        Files.writeString(dir.resolve("bad.yaml"), """
                name: "bad name!"
                dataDirectory: data
                replication:
                  listen: 7400
                  colour: blue
                agreements:
                  - name: one
                    supplier: a:1
                    certificate: b.pem
                  - name: one
                    supplier: not-a-host-port
                    certificate: missing.pem
                    mode: push
                    interval: soon
                admin:
                  token: short
                engine:
                  window: 1m
                  maxClockSkew: 5m
                  writeBuffer: lots
                """);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir.resolve("bad.yaml")));
        String all = String.join("\n", e.problems());
        for (String expected : new String[] {
            "name: 'bad name!' is not a valid name",
            "replication.listen: '7400' is not a host:port",
            "replication.colour: unknown key",
            "agreements[1].name: 'one' is used by another agreement",
            "agreements[1].supplier: 'not-a-host-port' is not a host:port",
            "agreements[1].certificate: cannot read",
            "agreements[1].mode: 'push' is not a mode",
            "agreements[1].interval: 'soon' is not a duration",
            "admin.token: the token has 5 characters",
            "engine.maxClockSkew: PT5M must be shorter than the window",
            "engine.writeBuffer: 'lots' is not a size"}) {
            assertTrue(all.contains(expected), "missing '" + expected + "' in:\n" + all);
        }
        assertTrue(e.getMessage().startsWith(dir.resolve("bad.yaml") + " has " + e.problems().size() + " problems"), e.getMessage());
    }

    @Test
    void missingRequiredSettingsAreNamed() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("{}", false, dir, "empty.json"));
        String all = String.join("\n", e.problems());
        assertTrue(all.contains("name: missing") && all.contains("dataDirectory: missing") && all.contains("replication: missing")
                && all.contains("admin.tokenFile: missing"), all);
    }

    @Test
    void aCertificateThatIsNotPemIsRefused() throws Exception {
        Files.writeString(dir.resolve("junk.pem"), "hello");
        String text = VALID.replaceFirst("certificate: b.pem", "certificate: junk.pem");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(text, true, dir, "x.yaml"));
        assertTrue(e.problems().get(0).startsWith("replication.consumers[0].certificate: junk.pem does not hold a PEM certificate"), e.problems().toString());
    }

    @Test
    void invalidSyntaxSaysWhere() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("{\"name\": ", false, dir, "x.json"));
        assertTrue(e.problems().get(0).contains("not valid JSON") && e.problems().get(0).contains("line 1"), e.problems().toString());
    }

    @Test
    void exportRedactsSecretsAndTheHashIsStableAcrossFormats() throws Exception {
        String json = """
                {"dataDirectory": "data/a", "name": "site-a",
                 "engine": {"blockCache": "32MiB", "window": "72h"},
                 "admin": {"token": "0123456789abcdef0123"},
                 "replication": {"consumers": [{"certificate": "b.pem", "name": "site-b"}], "listen": "0.0.0.0:7400"},
                 "agreements": [{"name": "from-b", "supplier": "site-b.example.org:7400", "certificate": "b.pem", "mode": "mutual-pull", "interval": "2000ms"}]}
                """;
        NodeConfig fromJson = ConfigLoader.parse(json, false, dir, "x.json");
        String yaml = ConfigExport.yaml(fromJson);
        assertFalse(yaml.contains("0123456789abcdef0123"), yaml);
        assertTrue(yaml.contains("<redacted>") && yaml.contains("publicKeySha256"), yaml);
        NodeConfig fromYaml = ConfigLoader.parse(VALID.replace("tokenFile: admin.token", "token: other-secret-0123456789"), true, dir, "x.yaml");
        assertEquals(ConfigExport.hash(fromJson), ConfigExport.hash(fromYaml), "same settings, same hash, whatever the format, order or secret");
        NodeConfig changed = ConfigLoader.parse(VALID.replace("interval: 2s", "interval: 3s"), true, dir, "x.yaml");
        assertNotEquals(ConfigExport.hash(fromYaml), ConfigExport.hash(changed));
    }

    @Test
    void valuesThatWouldOverflowAreRefusedWithTheirPathNeverWrapped() {
        String text = VALID.replace("window: 3d", "window: 106751991167300d").replace("blockCache: 32MiB", "blockCache: 17592186044424MiB");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(text, true, dir, "x.yaml"));
        String all = String.join("\n", e.problems());
        assertTrue(all.contains("engine.window: '106751991167300d' is too long: at most 36500d"), all);
        assertTrue(all.contains("engine.blockCache: '17592186044424MiB' is too large: at most 1024GiB"), all);
        assertThrows(IllegalArgumentException.class, () -> ConfigLoader.duration("99999999999999999999999ms"));
    }

    @Test
    void aKeyGivenTwiceIsRefused() {
        String text = VALID.replace("  window: 3d", "  window: 3d\n  window: 4d");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(text, true, dir, "x.yaml"));
        assertTrue(e.problems().get(0).contains("Duplicate field 'window'"), e.problems().toString());
    }

    @Test
    void aTokenOfSpacesOrWithSpacesIsRefused() {
        for (String token : List.of("'                    '", "'0123456789 abcdef0123'")) {
            String text = VALID.replace("tokenFile: admin.token", "token: " + token);
            ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(text, true, dir, "x.yaml"), token);
            assertTrue(e.problems().stream().anyMatch(p -> p.startsWith("admin.token:")), e.problems().toString());
        }
    }

    @Test
    void durationsAndSizes() {
        assertEquals(Duration.ofMillis(250), ConfigLoader.duration("250ms"));
        assertEquals(Duration.ofDays(7), ConfigLoader.duration("7d"));
        assertEquals(64L << 20, ConfigLoader.size("64MiB"));
        assertEquals(4096, ConfigLoader.size("4096"));
        assertThrows(IllegalArgumentException.class, () -> ConfigLoader.duration("7 weeks"));
    }
}
