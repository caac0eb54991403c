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
 * one object per line, appended and flushed as it happens. It rotates at {@link #MAX_BYTES}
 * ({@code audit.log.1} is the newest old file, {@code audit.log.4} the oldest kept), so that
 * clients refused without end cannot fill the disk with it.
 */
public final class AuditLog implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AuditLog.class);
    static final long MAX_BYTES = 64L << 20;
    static final int KEEP = 4;
    private final ObjectMapper json = new ObjectMapper();
    private final Path file;
    private final long maxBytes;
    private Writer out;
    private long size;
    /** Whether the last write failed: the failure is logged once, and again only after a success. */
    private boolean failing;

    public AuditLog(Path file) {
        this(file, MAX_BYTES);
    }

    AuditLog(Path file, long maxBytes) {
        this.file = file;
        this.maxBytes = maxBytes;
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            open();
        } catch (IOException e) {
            throw new IllegalStateException("cannot open the audit log " + file + ": " + e.getMessage(), e);
        }
    }

    private void open() throws IOException {
        FileModes.createOwnerOnly(file);
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        size = Files.size(file);
    }

    /**
     * Shifts the old files and starts a new audit.log. A rotation that fails is not tried again
     * before another {@link #MAX_BYTES} are written, so it never deletes the oldest file twice;
     * and the log is reopened whatever happened.
     */
    private void rotate() throws IOException {
        IOException failed = null;
        try {
            out.close();
            Files.deleteIfExists(old(KEEP));
            for (int i = KEEP - 1; i >= 1; i--) {
                if (Files.exists(old(i))) {
                    Files.move(old(i), old(i + 1));
                }
            }
            if (Files.exists(file)) {
                Files.move(file, old(1));
            }
        } catch (IOException e) {
            failed = e;
        }
        try {
            open();
        } finally {
            if (failed != null) {
                size = 0;
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    private Path old(int i) {
        return file.resolveSibling(file.getFileName() + "." + i);
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
            if (size >= maxBytes) {
                rotate();
            }
            String text = json.writeValueAsString(line) + "\n";
            out.write(text);
            out.flush();
            size += text.getBytes(StandardCharsets.UTF_8).length;
            if (failing) {
                failing = false;
                LOG.info("the audit log " + file + " is written again");
            }
        } catch (IOException e) {
            if (!failing) {
                failing = true;
                LOG.error("cannot write the audit log " + file + ": " + e.getMessage() + "; lines are lost until it can (logged once)", e);
            }
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
