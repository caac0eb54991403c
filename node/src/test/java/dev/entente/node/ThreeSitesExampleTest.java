package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config/examples/three-sites works as its README says (on free ports instead of 7401-7403 and 7481-7483). */
class ThreeSitesExampleTest {

    @Test
    void theThreeSiteExampleReplicatesAWriteThroughTheRestApi(@TempDir Path root) throws Exception {
        Path examples = Path.of(System.getProperty("user.dir")).getParent().resolve("config/examples/three-sites");
        String[] sites = {"a", "b", "c"};
        int[] ports = new int[6];
        for (int i = 0; i < ports.length; i++) {
            try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                ports[i] = s.getLocalPort();
            }
        }
        for (int i = 0; i < 3; i++) {
            Path dir = root.resolve("site-" + sites[i]);
            CliTest.Run init = i == 0
                    ? CliTest.cli("init", "--data-dir", dir.toString(), "--name", "site-a", "--new-domain")
                    : CliTest.cli("init", "--data-dir", dir.toString(), "--name", "site-" + sites[i]);
            assertEquals(0, init.code(), init.err());
        }
        for (int i = 0; i < 3; i++) {
            String yaml = Files.readString(examples.resolve("site-" + sites[i]).resolve("node.yaml"));
            for (int j = 0; j < 3; j++) {
                yaml = yaml.replace("127.0.0.1:" + (7401 + j), "127.0.0.1:" + ports[j]).replace("127.0.0.1:" + (7481 + j), "127.0.0.1:" + ports[3 + j]);
            }
            Files.writeString(root.resolve("site-" + sites[i]).resolve("node.yaml"), yaml);
            assertEquals(0, CliTest.cli("config", "check", "--config", root.resolve("site-" + sites[i]).resolve("node.yaml").toString()).code());
        }
        List<EntenteNode> nodes = new ArrayList<>();
        try {
            for (String s : sites) {
                nodes.add(EntenteNode.start(ConfigLoader.load(root.resolve("site-" + s).resolve("node.yaml"))));
            }
            Cluster.await("site-b and site-c to join", Duration.ofSeconds(60), () -> nodes.stream().allMatch(n -> n.engine().refreshRequired().isEmpty()));
            AdminApiTest api = new AdminApiTest();
            String ta = Files.readString(root.resolve("site-a/admin.token")).trim();
            String tc = Files.readString(root.resolve("site-c/admin.token")).trim();
            assertEquals(200, api.call(nodes.get(0), "PUT", "/v1/namespaces/people", ta, "{\"unique\": [\"name\"]}").status());
            String id = api.call(nodes.get(0), "POST", "/v1/namespaces/people/entries", ta, "{\"attrs\": {\"name\": [\"alice\"]}}").json().get("id").asText();
            Cluster.await("alice to reach site-c", Duration.ofSeconds(30),
                    () -> uncheckedStatus(api, nodes.get(2), "/v1/namespaces/people/entries/" + id, tc) == 200);
            CliTest.Run status = CliTest.cli("status", "--config", root.resolve("site-c/node.yaml").toString());
            assertEquals(0, status.code(), status.err());
            assertTrue(status.out().contains("from-a") && status.out().contains("from-b"), status.out());
            Cluster.await("the three sites to converge", Duration.ofSeconds(30),
                    () -> nodes.stream().map(n -> n.engine().digest()).distinct().count() == 1);
        } finally {
            nodes.forEach(EntenteNode::close);
        }
    }

    private static int uncheckedStatus(AdminApiTest api, EntenteNode n, String path, String token) {
        try {
            return api.call(n, "GET", path, token, null).status();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
