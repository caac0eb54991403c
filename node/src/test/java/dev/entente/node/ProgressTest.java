package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.entente.engine.Progress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a refresh, a backup and a restore say while they run: the counts they report, the status
 * that carries them and the line the command prints from it.
 */
class ProgressTest {

    @Test
    void aProgressLineSaysHowMuchOfHowMuchTheRateAndTheTimeLeft() {
        assertEquals("250,000 of about 1,000,000 records (25%), 60.0 MiB, 50,000 records/s, about 15 s left",
                AdminClient.describe(new Progress("records", 250_000, 1_000_000, 60L << 20, Duration.ofSeconds(5))));
        assertEquals("1.0 GiB of 4.0 GiB (25%), 102.4 MiB/s, about 30 s left",
                AdminClient.describe(new Progress("bytes", 1L << 30, 4L << 30, 1L << 30, Duration.ofSeconds(10))));
        assertEquals("1,200,000 records, 300.0 MiB, 100,000 records/s",
                AdminClient.describe(new Progress("records", 1_200_000, 1_000_000, 300L << 20, Duration.ofSeconds(12))),
                "an estimate that was passed gives neither a share nor a time left");
        assertEquals("10 records, 1.0 KiB, 0 records/s", AdminClient.describe(new Progress("records", 10, 0, 1024, Duration.ZERO)));
        assertEquals("about 17 min left", AdminClient.describe(new Progress("bytes", 1, 1001, 1, Duration.ofSeconds(1))).replaceAll(".*, ", ""));
    }

    @Test
    void packingCountsEveryByteOfTheFilesAndUnpackingEveryByteOfTheArchive(@TempDir Path dir) throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree/sub"));
        Files.write(tree.resolve("big"), new byte[300_000]);
        Files.writeString(dir.resolve("tree/small"), "x".repeat(1234));
        Path archive = Files.createFile(dir.resolve("t.tar.gz"));
        AtomicLong packed = new AtomicLong();
        TarGz.pack(dir.resolve("tree"), archive, packed::addAndGet);
        assertEquals(301_234, packed.get());
        AtomicLong read = new AtomicLong();
        TarGz.unpack(archive, Files.createDirectory(dir.resolve("out")), 1 << 20, read::addAndGet);
        assertEquals(Files.size(archive), read.get());
    }

    @Test
    void statusCarriesARunningBackupsProgressAndTheBackupCommandDescribesIt(@TempDir Path dir) throws Exception {
        try (EntenteNode n = AdminApiTest.node(dir.resolve("a"), "a", "")) {
            String t = Files.readString(dir.resolve("a/admin.token")).trim();
            String quiet = new AdminApiTest().call(n, "GET", "/v1/status", t, null).body();
            assertNull(AdminClient.describeBackupProgress(quiet, null), quiet);
            Backup.Running running = new Backup.Running("nightly.tar.gz");
            n.runningBackups().add(running);
            String body = new AdminApiTest().call(n, "GET", "/v1/status", t, null).body();
            JsonNode b = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).at("/backups/0");
            assertEquals("nightly.tar.gz", b.get("name").asText(), body);
            assertEquals("bytes", b.at("/progress/unit").asText(), body);
            assertTrue(b.at("/progress/elapsedMillis").isNumber() && b.at("/progress/secondsLeft").isNull(), body);
            assertTrue(AdminClient.describeBackupProgress(body, null).startsWith("writing nightly.tar.gz: 0 B"), body);
            assertTrue(AdminClient.describeBackupProgress(body, "nightly.tar.gz").startsWith("writing nightly.tar.gz: "));
            assertNull(AdminClient.describeBackupProgress(body, "other.tar.gz"));
            n.runningBackups().remove(running);
        }
    }

    @Test
    void theRefreshCommandAndStatusDescribeTheAgreementsRefreshAndStatusTheRunningBackups() {
        String status = """
                {"agreements": [{"name": "from b", "state": "REFRESHING", "refresh": {"unit": "records", "done": 500, "total": 2000,
                 "bytes": 65536, "elapsedMillis": 1000, "perSecond": 500, "secondsLeft": 3}},
                 {"name": "from c", "state": "BACKOFF", "lastError": "connection refused", "refresh": null}]}""";
        assertEquals("refreshing: 500 of about 2,000 records (25%), 64.0 KiB, 500 records/s, about 3 s left",
                AdminClient.describeRefreshProgress(status, "from b"));
        assertEquals("agreement 'from c' is BACKOFF: connection refused", AdminClient.describeRefreshProgress(status, "from c"));
        String full = status.replace("{\"agreements\"", "{\"node\": \"a\", \"origin\": \"o\", \"domain\": \"d\", \"backups\": [{\"name\": \"n.tar.gz\", "
                + "\"progress\": {\"unit\": \"bytes\", \"done\": 1024, \"total\": 4096, \"bytes\": 1024, \"elapsedMillis\": 1000}}], \"agreements\"");
        String text = AdminClient.describeStatus(full);
        assertTrue(text.contains("refreshing: 500 of about 2,000 records (25%)") && text.contains("backup running: n.tar.gz, 1.0 KiB of 4.0 KiB (25%)"), text);
    }
}
