package dev.entente.engine;

import dev.entente.engine.session.InProcessReplication;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The supplier's work for a small delta does not grow with the size of the database. */
class SupplierWorkTest {

    @Test
    void aTenChangeDeltaCostsTheSameOnOneHundredAndOnOneHundredThousandEntries(@TempDir Path dir) throws Exception {
        try (TestNodes nodes = new TestNodes(dir)) {
            long[] small = deltaWork(nodes, "small", 100);
            long[] large = deltaWork(nodes, "large", 100_000);
            assertEquals(10, small[0], "records read for the delta");
            assertEquals(small[0], large[0], "records read does not grow with the database");
            assertEquals(small[1], large[1], "iterator seeks do not grow with the database");
            assertTrue(large[1] <= 2, "one seek per origin with something to send: " + large[1]);
        }
    }

    /** @return records read and seeks made by the supplier for a 10-change delta */
    private static long[] deltaWork(TestNodes nodes, String name, int entries) {
        Engine supplier = nodes.open(name + "-supplier");
        Engine consumer = nodes.open(name + "-consumer");
        supplier.transaction().defineNamespace("people", TestNodes.people()).commit();
        for (int i = 0; i < entries; i += 1000) {
            Transaction tx = supplier.transaction();
            for (int j = i; j < Math.min(entries, i + 1000); j++) {
                tx.create("people", supplier.newEntryId(), Attributes.ofText("name", "user" + j, "mail", "user" + j + "@example.org"));
            }
            tx.commit();
        }
        InProcessReplication.refresh(consumer, "consumer", supplier, "supplier", 4 << 20);
        for (int i = 0; i < 10; i++) {
            supplier.create("people", Attributes.ofText("name", "delta" + i));
        }
        try (ChangeStream s = supplier.supplyChanges(consumer.ruv(), "consumer")) {
            ChangeBatch b;
            while ((b = s.next(100, 1 << 20)) != null) {
                consumer.applyChanges(b, "supplier");
            }
            assertTrue(consumer.missingFrom(s.supplierRuv()).isEmpty());
            return new long[] {s.recordsRead(), s.seeks()};
        }
    }
}
