package dev.entente.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuntimePeersTest {
    private static final String NEW_KEY = "-----BEGIN CERTIFICATE-----\nNEW\n-----END CERTIFICATE-----\n";

    private static NodeConfig file(Path dir) {
        return ConfigBuilder.node("a", dir).listen("127.0.0.1:0").consumer("b", ConfigLoaderTest.PEM).adminOff().build();
    }

    @Test
    void aConsumerOfNodeYamlRemovedAndAddedAgainWithAnotherKeyNeverBringsTheOldKeyBack(@TempDir Path dir) {
        NodeConfig yaml = file(dir);
        RuntimePeers changed = RuntimePeers.NONE.withoutConsumer("b", true)
                .withConsumer(new NodeConfig.Peer("b", NEW_KEY, "added at run time", false));
        changed.save(dir);
        List<NodeConfig.Peer> pinned = RuntimePeers.load(dir).applyTo(yaml).consumers();
        assertEquals(1, pinned.size(), "one consumer named b: " + pinned);
        assertEquals(NEW_KEY, pinned.get(0).certificatePem(), "the key unpinned at run time stays unpinned after a restart");
    }

    @Test
    void aNameInNodeYamlAndAddedAtRunTimeTooStopsTheStartWithBothNamed(@TempDir Path dir) {
        RuntimePeers added = RuntimePeers.NONE.withConsumer(new NodeConfig.Peer("b", NEW_KEY, "added at run time", false));
        ConfigException e = assertThrows(ConfigException.class, () -> added.applyTo(file(dir)));
        assertTrue(e.getMessage().contains("consumer 'b' is in node.yaml and was added at run time too"), e.getMessage());
    }
}
