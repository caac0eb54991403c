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
                return String.format("%1$tFT%1$tT.%1$tLZ %2$-7s %3$s%4$s%n", r.getInstant().toEpochMilli(), r.getLevel().getName(),
                        formatMessage(r), thrown);
            }
        }) {
            @Override
            public synchronized void publish(LogRecord record) {
                super.publish(record);
                flush();
            }
        };
        h.setLevel(level);
        root.addHandler(h);
        root.setLevel(level);
    }
}
