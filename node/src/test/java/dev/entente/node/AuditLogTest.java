package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {

    @Test
    void endlessRefusalsRotateTheAuditLogWithinItsBoundAndTheNewestLinesStay(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("audit.log");
        try (AuditLog log = new AuditLog(file, 10_000)) {
            for (int i = 0; i < 5_000; i++) {
                log.record("127.0.0.1", "GET /v1/digest", "-", "refused: 401 unauthorized #" + i);
            }
        }
        try (var files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(List.of("audit.log", "audit.log.1", "audit.log.2", "audit.log.3", "audit.log.4"), names);
        }
        for (String name : List.of("audit.log", "audit.log.1", "audit.log.4")) {
            long size = Files.size(dir.resolve(name));
            assertTrue(size < 10_000 + 200, name + " stays near its bound: " + size);
        }
        List<String> newest = Files.readAllLines(file);
        assertTrue(newest.get(newest.size() - 1).contains("#4999"), "the last line is in audit.log");
        assertTrue(Files.readAllLines(dir.resolve("audit.log.1")).get(0).contains("\"who\":\"127.0.0.1\""));
        assertFalse(FileModes.readableByOthers(file), "a new audit.log is owner-only");
    }
}
