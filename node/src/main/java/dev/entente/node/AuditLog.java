package dev.entente.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A JSON-lines log of admin actions and replication sessions: when, who, what, and the result,
 * one object per line, appended and flushed as it happens.
 */
public final class AuditLog implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AuditLog.class);
    private final ObjectMapper json = new ObjectMapper();
    private final Writer out;
    private final Path file;

    public AuditLog(Path file) {
        this.file = file;
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            FileModes.createOwnerOnly(file);
            this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new IllegalStateException("cannot open the audit log " + file + ": " + e.getMessage(), e);
        }
    }

    /** Records one action; {@code result} is "ok" or what went wrong. */
    public synchronized void record(String who, String action, String target, String result) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("time", Instant.now().toString());
        line.put("who", who);
        line.put("action", action);
        line.put("target", target);
        line.put("result", result);
        try {
            out.write(json.writeValueAsString(line));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            LOG.error("cannot write the audit log " + file + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            LOG.warn("closing the audit log failed: " + e.getMessage(), e);
        }
    }
}
