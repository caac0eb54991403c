package dev.entente.node;

import dev.entente.engine.session.Link;
import dev.entente.protocol.SessionMessages.Frame;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;

/** A session's {@link Link} on a Netty channel. */
final class ChannelLink implements Link {
    private final Channel channel;

    ChannelLink(Channel channel) {
        this.channel = channel;
    }

    @Override
    public void send(Frame frame) {
        channel.writeAndFlush(frame, channel.voidPromise());
    }

    @Override
    public boolean writable() {
        return channel.isWritable();
    }

    /** Closes once what was written before has gone out: an Error frame reaches the peer before the close. */
    @Override
    public void close() {
        if (channel.isActive()) {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }
}
