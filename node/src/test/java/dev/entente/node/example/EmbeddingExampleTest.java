package dev.entente.node.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The example in docs/embedding.md is this source, and it runs. */
class EmbeddingExampleTest {

    @Test
    void theExampleRuns() throws Exception {
        EmbeddingExample.main(new String[0]);
    }

    @Test
    void theDocumentationShowsExactlyTheExample() throws Exception {
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        String doc = Files.readString(root.resolve("docs/embedding.md"));
        String source = Files.readString(root.resolve("node/src/test/java/dev/entente/node/example/EmbeddingExample.java"));
        int start = doc.indexOf("```java\n");
        int end = doc.indexOf("```", start + 8);
        assertTrue(start >= 0 && end > start, "docs/embedding.md has a java block");
        assertEquals(source, doc.substring(start + 8, end), "docs/embedding.md must show node/src/test/java/dev/entente/node/example/EmbeddingExample.java as it is");
    }
}
