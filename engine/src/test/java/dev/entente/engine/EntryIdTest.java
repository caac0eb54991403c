package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EntryIdTest {
    @TempDir
    Path dir;

    /** Far more ids than one draw of the secure source holds, so the refill is crossed many times. */
    @Test
    void idsFromTheSecureSourceAreVersion4AndDistinctAcrossRefills() {
        try (Engine e = Engine.open(EngineOptions.builder(dir.resolve("secure")).build())) {
            Set<UUID> seen = new HashSet<>();
            for (int i = 0; i < 10_000; i++) {
                UUID id = e.newEntryId();
                assertEquals(4, id.version(), id.toString());
                assertEquals(2, id.variant(), id.toString());
                assertTrue(seen.add(id), "id " + id + " was drawn twice");
            }
        }
    }

    @Test
    void idsFromASeededSourceRepeatWithTheSeed() {
        assertEquals(ids(dir.resolve("one"), 42), ids(dir.resolve("two"), 42));
    }

    private static List<UUID> ids(Path path, long seed) {
        try (Engine e = Engine.open(EngineOptions.builder(path).random(new Random(seed)).build())) {
            List<UUID> out = new ArrayList<>();
            for (int i = 0; i < 600; i++) {
                out.add(e.newEntryId());
            }
            return out;
        }
    }
}
