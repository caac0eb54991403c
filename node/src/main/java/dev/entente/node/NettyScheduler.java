package dev.entente.node;

import dev.entente.engine.session.Scheduler;
import io.netty.channel.EventLoopGroup;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** A session's {@link Scheduler} in a node: timers on a Netty event loop, every task run through the session's serial executor. */
final class NettyScheduler implements Scheduler {
    private final EventLoopGroup group;
    private final SerialExecutor serial;

    NettyScheduler(EventLoopGroup group, SerialExecutor serial) {
        this.group = group;
        this.serial = serial;
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public Timer schedule(long delayMillis, Runnable task) {
        ScheduledFuture<?> f = group.next().schedule(() -> serial.execute(task), delayMillis, TimeUnit.MILLISECONDS);
        return () -> f.cancel(false);
    }

    @Override
    public void execute(Runnable task) {
        serial.execute(task);
    }
}
