package dev.entente.node;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.TimeUnit;

/**
 * The listening socket's gate: at its connection limit it stops accepting, so that connections
 * beyond it wait in the kernel's backlog instead of each taking a descriptor to be closed (a
 * flood would otherwise spike the process's descriptors past the limit, starving the store); and
 * when an accept fails (the process out of descriptors, most often) it pauses accepting for a
 * second, so the event loop does not spin, logging at most one line every ten seconds with the
 * count of those it did not log. Runs on the listening channel's event loop.
 */
final class AcceptGate extends ChannelInboundHandlerAdapter {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AcceptGate.class);
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final String server;
    private final int limit;
    private int open;
    private boolean pausedForError;
    private boolean wasFull;
    private final Throttle acceptFailures = new Throttle();
    private final Throttle fills = new Throttle();

    /** One log line per ten seconds at most, counting the occasions it did not log. */
    private static final class Throttle {
        private long lastLogged = System.nanoTime() - LOG_EVERY_NANOS;
        private long notLogged;

        /** The occasions not logged since the last line (0 or more), or -1 when this one is not logged either. */
        long occur() {
            long now = System.nanoTime();
            if (now - lastLogged < LOG_EVERY_NANOS) {
                notLogged++;
                return -1;
            }
            lastLogged = now;
            long skipped = notLogged;
            notLogged = 0;
            return skipped;
        }
    }

    /** @param limit connections held at once; more wait in the backlog */
    AcceptGate(String server, int limit) {
        this.server = server;
        this.limit = limit;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel child = (Channel) msg;
        Channel listener = ctx.channel();
        if (open >= limit) {
            // Accepted in the same read as the one that filled the gate: Netty reads up to 16 at once.
            child.unsafe().closeForcibly();
            return;
        }
        open++;
        child.closeFuture().addListener(f -> {
            if (listener.eventLoop().isShuttingDown()) {
                return;
            }
            try {
                listener.eventLoop().execute(() -> {
                    open--;
                    update(listener);
                });
            } catch (java.util.concurrent.RejectedExecutionException stopping) {
                // The server is stopping: nothing left to count for.
            }
        });
        update(listener);
        ctx.fireChannelRead(child);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Channel listener = ctx.channel();
        if (!pausedForError) {
            pausedForError = true;
            update(listener);
            listener.eventLoop().schedule(() -> {
                pausedForError = false;
                update(listener);
            }, 1, TimeUnit.SECONDS);
        }
        long skipped = acceptFailures.occur();
        if (skipped < 0) {
            return;
        }
        LOG.warn("the " + server + " cannot accept a connection (" + cause.getMessage() + "); it pauses accepting for 1 s"
                + (skipped > 0 ? " (" + skipped + " more failures since the last line)" : "")
                + ". If the process is out of descriptors, raise its limit or lower the connection limits");
    }

    private void update(Channel listener) {
        boolean full = open >= limit;
        if (full && !wasFull) {
            long skipped = fills.occur();
            if (skipped >= 0) {
                LOG.warn("the " + server + " holds its limit of " + limit + " connections; more wait until one closes"
                        + (skipped > 0 ? " (it reached the limit " + (skipped + 1) + " times since the last line)" : ""));
            }
        }
        wasFull = full;
        listener.config().setAutoRead(!full && !pausedForError);
    }
}
