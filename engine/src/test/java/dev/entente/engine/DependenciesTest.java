package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * An embedder of the engine carries no network library: the engine and the protocol it depends
 * on bring no Netty (the node holds the transport). The engine's test class path is its own
 * dependencies plus test libraries, none of which bring Netty either.
 */
class DependenciesTest {
    @Test
    void theEngineAndTheProtocolBringNoNetty() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("io.netty.buffer.ByteBuf"));
        assertThrows(ClassNotFoundException.class, () -> Class.forName("io.netty.channel.Channel"));
    }
}
