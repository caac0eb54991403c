package dev.entente.node;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.joran.spi.JoranException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * The standalone commands' logging (logback; the library modules log through SLF4J, so a server
 * embedding a node keeps its own). A {@code logback.xml} beside the node's configuration file
 * replaces the default entirely (levels per package, files with size-capped rotation, see
 * docs/operations.md); the default is one line per event on a stream of the command's choice,
 * stamped in UTC.
 */
final class Logging {
    /** The default line: 2026-12-07T15:42:30.408Z INFO    message. */
    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z',UTC} %-7level %msg%n";

    private Logging() {
    }

    /** One line per event at {@code level} and above on {@code stream}. */
    static void configure(PrintStream stream, Level level) {
        LoggerContext context = reset();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
        appender.setContext(context);
        appender.setName("stream");
        appender.setEncoder(encoder);
        appender.setImmediateFlush(true);
        // Never closed with the appender: it is the command's stdout or stderr.
        appender.setOutputStream(new FilterOutputStream(stream) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        });
        appender.start();
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);
        root.setLevel(level);
        // Netty's own debug output is noise to an operator.
        context.getLogger("io.netty").setLevel(Level.WARN);
    }

    /**
     * For a node: the {@code logback.xml} beside its configuration file when there is one, else
     * the default on {@code stream} at INFO.
     *
     * @return the file used, or null for the default
     */
    static Path configureNode(Path configFile, PrintStream stream) {
        Path custom = configFile.toAbsolutePath().resolveSibling("logback.xml");
        if (!Files.isRegularFile(custom)) {
            configure(stream, Level.INFO);
            return null;
        }
        LoggerContext context = reset();
        JoranConfigurator joran = new JoranConfigurator();
        joran.setContext(context);
        try {
            joran.doConfigure(custom.toFile());
        } catch (JoranException e) {
            throw new IllegalStateException("cannot read the logging configuration " + custom + ": " + e.getMessage()
                    + " (fix it, or remove it to log to stdout)", e);
        }
        return custom;
    }

    private static LoggerContext reset() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        return context;
    }
}
