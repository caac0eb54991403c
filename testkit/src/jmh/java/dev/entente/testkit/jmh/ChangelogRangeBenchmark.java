package dev.entente.testkit.jmh;

import dev.entente.engine.ChangeBatch;
import dev.entente.engine.ChangeStream;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.Ruv;
import dev.entente.engine.Transaction;
import dev.entente.testkit.IdentityEntries;
import dev.entente.testkit.TempDirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The supplier's changelog range read on a store of 100,000 entries: everything a consumer whose
 * RUV lags by 10 or by 1,000 single-entry changes lacks, read in batches as a session does.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ChangelogRangeBenchmark {
    private Path dir;
    private Engine engine;
    private Ruv behind1000;
    private Ruv behind10;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        dir = Files.createTempDirectory("entente-jmh-changelog");
        engine = Engine.open(EngineOptions.builder(dir).build());
        engine.transaction().defineNamespace(IdentityEntries.NAMESPACE, IdentityEntries.schema()).commit();
        for (int i = 0; i < 100_000; i += 100) {
            Transaction tx = engine.transaction();
            for (int j = i; j < i + 100; j++) {
                tx.create(IdentityEntries.NAMESPACE, engine.newEntryId(), IdentityEntries.entry("bulk-", j));
            }
            tx.commit();
        }
        behind1000 = engine.ruv();
        for (int i = 0; i < 1000; i++) {
            if (i == 990) {
                behind10 = engine.ruv();
            }
            engine.transaction().create(IdentityEntries.NAMESPACE, engine.newEntryId(), IdentityEntries.entry("tail-", i)).commit();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        engine.close();
        TempDirs.delete(dir);
    }

    private long readAll(Ruv from) {
        long records = 0;
        try (ChangeStream s = engine.supplyChanges(from, "jmh")) {
            for (ChangeBatch b = s.next(1000, 4 << 20); b != null; b = s.next(1000, 4 << 20)) {
                records += b.records().size();
            }
        }
        return records;
    }

    @Benchmark
    public long lagging10() {
        return readAll(behind10);
    }

    @Benchmark
    public long lagging1000() {
        return readAll(behind1000);
    }
}
