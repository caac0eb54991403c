package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    record Run(int code, String out, String err) {
    }

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Cli.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theConfigurationTheCliAndThePeersShareOneNodeNameRule() {
        assertEquals(dev.entente.protocol.PeerText.NODE_NAME.pattern(), dev.entente.config.ConfigLoader.NODE_NAME.pattern());
    }

    @Test
    void initMakesANodeWhoseConfigurationChecksExportsAndHashes(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        Run init = cli("init", "--data-dir", a.toString(), "--name", "site-a", "--new-domain", "--listen", "127.0.0.1:0");
        assertEquals(0, init.code(), init.err());
        assertTrue(init.out().contains("node 'site-a' made") && init.out().contains("(new)"), init.out());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(a.resolve("admin.token"))));
        String config = a.resolve("node.yaml").toString();
        assertEquals(0, cli("config", "check", "--config", config).code());
        Run export = cli("config", "export", "--config", config);
        assertTrue(export.out().contains("name: \"site-a\"") && !export.out().contains(Files.readString(a.resolve("admin.token")).trim()), export.out());
        Run hash1 = cli("config", "hash", "--config", config);
        assertEquals(64, hash1.out().trim().length());
        assertEquals(hash1.out(), cli("config", "hash", "--config", config).out(), "stable");
        Run again = cli("init", "--data-dir", a.toString(), "--name", "site-a");
        assertEquals(1, again.code());
        assertTrue(again.err().contains("already holds a node"), again.err());
    }

    @Test
    void certShowPrintsThePemAndRenewKeepsTheKey(@TempDir Path dir) {
        Path a = dir.resolve("a");
        cli("init", "--data-dir", a.toString(), "--name", "site-a", "--new-domain");
        Run show = cli("cert", "show", "--data-dir", a.toString());
        assertTrue(show.out().startsWith("-----BEGIN CERTIFICATE-----"), show.out());
        String fingerprint = NodeIdentity.load(a.resolve("identity")).publicKeyFingerprint();
        assertTrue(show.err().contains(fingerprint), show.err());
        Run renew = cli("cert", "renew", "--data-dir", a.toString(), "--validity", "30d");
        assertEquals(0, renew.code(), renew.err());
        assertEquals(fingerprint, NodeIdentity.load(a.resolve("identity")).publicKeyFingerprint());
    }

    @Test
    void wrongUsageSaysWhatWasWrongAndExitsTwo(@TempDir Path dir) {
        for (String[] args : new String[][] {{}, {"bogus"}, {"init", "--name", "x"}, {"init", "--data-dir", "d", "--name", "bad name"},
            {"cert"}, {"cert", "sideways", "--data-dir", "d"}, {"config"}, {"node", "--colour", "blue"}, {"init", "--data-dir"},
            {"restore", "--from", "x.tar.gz"}, {"status", "--bogus"}, {"refresh", "--json", "--colour"}}) {
            Run r = cli(args);
            assertEquals(2, r.code(), String.join(" ", args));
            assertTrue(!r.err().isBlank() || !r.out().isBlank(), String.join(" ", args));
        }
        assertTrue(cli("init", "--name", "x").err().contains("--data-dir"));
        assertTrue(cli("statsu").err().contains("status"), "a misspelt command gets a suggestion");
        for (String c : new String[] {"init", "node", "cert", "config", "demo", "status", "sync", "refresh", "backup", "restore", "changes",
            "cert show", "cert renew", "config check", "config export", "config hash", "consumer add", "consumer remove", "agreement add",
            "agreement remove"}) {
            Run help = cli((c + " --help").split(" "));
            assertEquals(0, help.code(), c);
            assertTrue(help.out().startsWith("usage: entente " + c), help.out());
            assertTrue(help.out().contains("Exit status:"), "every command's help lists its exit codes: " + help.out());
            if (!c.equals("cert") && !c.equals("config")) {
                assertTrue(help.out().contains("Example"), "every command's help shows an example: " + help.out());
            }
        }
        for (String c : new String[] {"init", "cert show", "cert renew", "config check", "config export", "config hash", "status", "sync", "refresh",
            "backup", "restore", "changes", "consumer add", "consumer remove", "agreement add", "agreement remove"}) {
            assertTrue(cli((c + " --help").split(" ")).out().contains("--json"), "every command that answers has --json: " + c);
        }
        Run missing = cli("config", "check", "--config", dir.resolve("absent.yaml").toString());
        assertEquals(1, missing.code(), "a configuration that is not there is a failure, not wrong usage");
        assertTrue(missing.err().contains("absent.yaml"), missing.err());
    }

    @Test
    void everyCommandThatAnswersHasAJsonFormAProgramCanRead(@TempDir Path dir) throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Path a = dir.resolve("a");
        var init = json.readTree(cli("init", "--data-dir", a.toString(), "--name", "site-a", "--new-domain", "--json").out());
        String key = NodeIdentity.load(a.resolve("identity")).publicKeyFingerprint();
        assertEquals("site-a", init.get("node").asText());
        assertEquals(key, init.get("publicKeySha256").asText());
        assertTrue(init.get("origin").asText().matches("[0-9a-f]{32}") && !init.get("joining").asBoolean(), init.toString());
        var show = json.readTree(cli("cert", "show", "--data-dir", a.toString(), "--json").out());
        assertEquals(key, show.get("publicKeySha256").asText());
        assertTrue(show.get("pem").asText().startsWith("-----BEGIN CERTIFICATE-----"));
        var renew = json.readTree(cli("cert", "renew", "--data-dir", a.toString(), "--json").out());
        assertEquals(key, renew.get("publicKeySha256").asText(), "same key");
        String config = a.resolve("node.yaml").toString();
        var check = json.readTree(cli("config", "check", "--config", config, "--json").out());
        assertTrue(check.get("ok").asBoolean() && check.get("node").asText().equals("site-a"), check.toString());
        assertEquals(cli("config", "hash", "--config", config).out().trim(),
                json.readTree(cli("config", "hash", "--config", config, "--json").out()).get("sha256").asText());
        Files.writeString(a.resolve("node.yaml"), Files.readString(a.resolve("node.yaml")).replace("name: site-a", "name: 'bad name'"));
        Run bad = cli("config", "check", "--config", config, "--json");
        assertEquals(1, bad.code());
        var problems = json.readTree(bad.out());
        assertFalse(problems.get("ok").asBoolean());
        assertTrue(problems.get("problems").toString().contains("name"), problems.toString());
    }

    @Test
    void theTestkitsCommandsAreInTheTreeAndSayWhereTheyRun() {
        for (String c : List.of("bench", "bench-engine", "simulate", "chaos")) {
            assertTrue(cli("--help").out().contains("  " + c + " "), c);
            Run r = cli(c, "--quick");
            assertEquals(1, r.code(), c);
            assertTrue(r.err().contains("runs from a source checkout") && r.err().contains("bin/entente " + c), r.err());
        }
    }

    @Test
    void versionSaysWhichBuildAndWhichJava() {
        Run v = cli("--version");
        assertEquals(0, v.code(), v.err());
        assertTrue(v.out().startsWith("entente 0.") && v.out().contains("Java " + Runtime.version().feature()), v.out());
    }

    @Test
    void theRemoteCommandsTalkToARunningNodeAndAnswerInWords(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        int adminPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            adminPort = s.getLocalPort();
        }
        cli("init", "--data-dir", a.toString(), "--name", "site-a", "--new-domain", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:" + adminPort);
        // An agreement whose supplier is not there, and a consumer: status shows both.
        Files.writeString(a.resolve("node.yaml"), Files.readString(a.resolve("node.yaml"))
                .replace("consumers: []", "consumers:\n    - name: site-c\n      certificate: " + a.resolve("cert.pem"))
                .replace("agreements: []", "agreements:\n  - name: from-b\n    supplier: 127.0.0.1:1\n    certificate: " + a.resolve("cert.pem")
                        + "\n    interval: 1s\n"));
        String config = a.resolve("node.yaml").toString();
        try (EntenteNode n = EntenteNode.start(dev.entente.config.ConfigLoader.load(a.resolve("node.yaml")))) {
            n.engine().transaction().defineNamespace("people", dev.entente.engine.Schema.EMPTY).commit();
            Run status = cli("status", "--config", config);
            assertEquals(0, status.code(), status.err());
            String origin = n.engine().originId().toString();
            assertTrue(status.out().contains(origin + " (this node)  " + java.time.Instant.now().toString().substring(0, 10)),
                    "the RUV reads as CIDs, by date: " + status.out());
            assertTrue(status.out().contains("from-b") && status.out().contains("never succeeded"), status.out());
            assertTrue(status.out().contains("site-c") && status.out().contains("not connected"), status.out());
            n.engine().create("people", dev.entente.engine.Attributes.ofText("name", "dora"));
            Run changes = cli("changes", "--config", config);
            assertEquals(0, changes.code(), changes.err());
            String[] lines = changes.out().trim().split("\n");
            assertTrue(lines.length == 2 && lines[0].contains(" local ") && lines[0].endsWith("namespace people")
                    && lines[1].contains("created people/"), changes.out());
            Run after = cli("changes", "--config", config, "--cursor", lines[0].split(" ")[0], "--json");
            assertTrue(after.out().trim().startsWith("{") && after.out().contains("\"created\"") && after.out().trim().split("\n").length == 1,
                    "only the commits after the cursor: " + after.out());
            Run json = cli("status", "--config", config, "--json");
            assertTrue(json.out().trim().startsWith("{") && json.out().contains("\"maxCid\""), json.out());
            Run sync = cli("sync", "--config", config, "--agreement", "no such <agreement> & more");
            assertEquals(1, sync.code(), sync.out() + sync.err());
            assertTrue(sync.err().contains("no such <agreement> & more") && !sync.err().contains("Exception"), "the name reaches the node intact: " + sync.err());
            Run failed = cli("sync", "--config", config);
            assertEquals(1, failed.code(), failed.out() + failed.err());
            assertTrue(failed.err().contains("from-b") && failed.err().contains("failed"), failed.err());
            Run backup = cli("backup", "--config", config, "--name", "one.tar.gz");
            assertEquals(0, backup.code(), backup.err());
            assertTrue(backup.out().startsWith("backup written: " + a.resolve("backups").resolve("one.tar.gz")), backup.out());
            Run again = cli("backup", "--config", config, "--name", "one.tar.gz");
            assertEquals(1, again.code());
            assertTrue(again.err().contains("answered 409") && again.err().contains("replace it"), again.err());
        }
    }

    @Test
    void aBadConfigurationIsReportedWithItsPathsAndExitsOne(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("bad.yaml"), "name: x\nreplication:\n  listen: nowhere\n");
        Run r = cli("config", "check", "--config", dir.resolve("bad.yaml").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("replication.listen: 'nowhere' is not a host:port") && r.err().contains("dataDirectory: missing"), r.err());
    }

    @Test
    void aNodeRunsUntilSigtermAndStopsCleanly(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        cli("init", "--data-dir", a.toString(), "--name", "site-a", "--new-domain", "--listen", "127.0.0.1:0");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                Cli.class.getName(), "node", "--config", a.resolve("node.yaml").toString()).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            boolean up = false;
            while ((line = out.readLine()) != null) {
                if (line.contains("replicating on")) {
                    up = true;
                    break;
                }
            }
            assertTrue(up, "the node said it runs");
            // kill -TERM rather than destroy(), which also closes the stream this test reads.
            assertEquals(0, new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor());
            StringBuilder rest = new StringBuilder();
            while ((line = out.readLine()) != null) {
                rest.append(line).append('\n');
            }
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "stopped on SIGTERM");
            assertEquals(0, p.exitValue(), "a clean stop exits 0: " + rest);
            assertTrue(rest.toString().contains("node 'site-a' stopped"), rest.toString());
        }
        try (var e = dev.entente.engine.Engine.open(dev.entente.engine.EngineOptions.builder(a.resolve("data")).build())) {
            assertTrue(e.checkIntegrity().isEmpty(), "the store reopens whole");
        }
    }

    @Test
    void aLogbackFileBesideTheConfigurationReplacesTheDefaultLogging(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        cli("init", "--data-dir", a.toString(), "--name", "site-a", "--new-domain", "--listen", "127.0.0.1:0");
        Path log = a.resolve("logs/node.log");
        Files.writeString(a.resolve("logback.xml"), """
                <configuration>
                  <appender name="file" class="ch.qos.logback.core.rolling.RollingFileAppender">
                    <file>%s</file>
                    <rollingPolicy class="ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy">
                      <fileNamePattern>%s.%%d{yyyy-MM-dd}.%%i.gz</fileNamePattern>
                      <maxFileSize>10MB</maxFileSize>
                      <totalSizeCap>100MB</totalSizeCap>
                    </rollingPolicy>
                    <encoder><pattern>%%d{ISO8601,UTC} %%level %%logger %%msg%%n</pattern></encoder>
                  </appender>
                  <root level="INFO"><appender-ref ref="file"/></root>
                </configuration>
                """.formatted(log, log));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                Cli.class.getName(), "node", "--config", a.resolve("node.yaml").toString()).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            StringBuilder printed = new StringBuilder();
            String line;
            while ((line = out.readLine()) != null && !line.contains("replicating on")) {
                printed.append(line).append('\n');
            }
            assertTrue(printed.toString().contains("logging as " + a.resolve("logback.xml")), printed.toString());
            assertEquals(0, new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor());
            while (out.readLine() != null) {
                // drain until the process ends
            }
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        }
        String logged = Files.readString(log);
        assertTrue(logged.contains("dev.entente.node.ReplicationServer node 'site-a' serves replication on"), logged);
    }

    @Test
    void aPortInUseEndsTheProcessWithOneLineNamingTheSetting(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            cli("init", "--data-dir", a.toString(), "--name", "site-a", "--new-domain", "--listen", "127.0.0.1:" + taken.getLocalPort());
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                    Cli.class.getName(), "node", "--config", a.resolve("node.yaml").toString()).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the process ended");
            assertEquals(1, p.exitValue(), output);
            assertTrue(output.contains("replication.listen") && output.contains(Integer.toString(taken.getLocalPort())), output);
            assertFalse(output.contains("\tat "), "no stack trace: " + output);
        }
    }

    @Test
    void aCertificateValidityOutOfBoundsIsAUsageError(@TempDir Path dir) {
        Path a = dir.resolve("a");
        cli("init", "--data-dir", a.toString(), "--name", "site-a", "--new-domain", "--listen", "127.0.0.1:0");
        for (String v : List.of("0d", "1y", "99999d")) {
            Run r = cli("cert", "renew", "--data-dir", a.toString(), "--validity", v);
            assertEquals(2, r.code(), v + ": " + r.err());
            assertTrue(r.err().contains("--validity") && !r.err().contains("\tat "), r.err());
        }
    }

    @Test
    void theDemoConvergesOverTls() {
        Run r = cli("demo", "--entries", "300");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("converged: all three nodes hold digest"), r.out());
    }
}
