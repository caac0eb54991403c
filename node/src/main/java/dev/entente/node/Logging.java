package dev.entente.node;

import java.io.PrintStream;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/** One line per log record, on a stream of the command's choice (stdout for a node). */
final class Logging {
    /** UTC, to the millisecond, whatever the machine's time zone. */
    private static final java.time.format.DateTimeFormatter UTC_MILLIS =
            java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);

    private Logging() {
    }

    static void configure(PrintStream stream, Level level) {
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            if (h instanceof ConsoleHandler || h instanceof StreamHandler) {
                root.removeHandler(h);
            }
        }
        StreamHandler h = new StreamHandler(stream, new Formatter() {
            @Override
            public String format(LogRecord r) {
                String thrown = r.getThrown() == null ? "" : " (" + r.getThrown() + ")";
                return String.format("%s %-7s %s%s%n", UTC_MILLIS.format(r.getInstant()), r.getLevel().getName(), formatMessage(r), thrown);
            }
        }) {
            @Override
            public synchronized void publish(LogRecord record) {
                super.publish(record);
                flush();
            }

            /**
             * The log manager closes its handlers in its own shutdown hook, while the node's hook
             * still writes its stop lines: closing would close stdout under it.
             */
            @Override
            public synchronized void close() {
                flush();
            }
        };
        h.setLevel(level);
        root.addHandler(h);
        root.setLevel(level);
    }
}
