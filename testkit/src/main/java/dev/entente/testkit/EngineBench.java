package dev.entente.testkit;

import com.google.protobuf.ByteString;
import dev.entente.engine.Attributes;
import dev.entente.engine.ChangeBatch;
import dev.entente.engine.ChangeStream;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.InProcessReplication;
import dev.entente.engine.Ruv;
import dev.entente.engine.Transaction;
import dev.entente.protocol.Wire;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The engine benchmark. In one run it measures the machine's raw limit (RocksDB writing an entry
 * and a changelog record per entry into two column families, batches of 100, WAL on, no fsync)
 * and then the engine's own paths on the same kind of identity-like entries: single-entry local
 * commits, batched local commits, and applying remote batches. Each figure is printed with its
 * ratio to the raw rate of the same run; nothing is asserted.
 */
public final class EngineBench {

    record Figure(String workload, String description, long entries, double seconds, double perSecond, double min, double max, double ratioToRaw) {
    }

    private EngineBench() {
    }

    static int run(String[] args) throws Exception {
        int entries = 200_000;
        int singles = 50_000;
        int rounds = 5;
        boolean json = false;
        Path dir = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--entries" -> entries = Integer.parseInt(args[++i]);
                case "--single-commits" -> singles = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--json" -> json = true;
                case "--dir" -> dir = Path.of(args[++i]);
                default -> {
                    System.err.println("""
                            usage: bench [--entries N] [--single-commits N] [--rounds R] [--json] [--dir D]
                              raw          RocksDB: entry + changelog record per entry, two column families,
                                           batches of 100, WAL on, no fsync (the machine's limit)
                              single       local commits of one entry each (WAL on, no fsync per commit)
                              batched      local commits of 100 entries each
                              apply        applying remote batches of 100 records of 100 entries each
                              apply-single applying remote batches of 100 single-entry records
                            R rounds (default 5) run every workload in turn on fresh directories; the median is
                            reported, with the lowest and highest rate seen.""");
                    return args[i].equals("--help") ? 0 : 2;
                }
            }
        }
        Path root = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("entente-bench");
        try {
            // Warm the JIT on a small run of every workload, then measure.
            runAll(root, Math.min(entries, 20_000), Math.min(singles, 10_000), 1);
            List<Figure> figures = runAll(root, entries, singles, rounds);
            print(figures, json);
            return 0;
        } finally {
            TempDirs.delete(root);
        }
    }

    private static List<Figure> runAll(Path root, int entries, int singles, int rounds) throws Exception {
        // Rounds interleave the workloads, so that the raw limit and the engine's figures are taken
        // under the same conditions (this machine's disk and background compactions are noisy).
        double[][] rates = new double[5][rounds];
        for (int r = 0; r < rounds; r++) {
            rates[0][r] = rawRocksDb(root.resolve("raw"), entries);
            rates[1][r] = singleCommits(root.resolve("single"), singles);
            rates[2][r] = batchedCommits(root.resolve("batched"), entries);
            rates[3][r] = remoteApply(root.resolve("apply"), entries, 100);
            rates[4][r] = remoteApply(root.resolve("apply-single"), singles, 1);
        }
        double raw = median(rates[0]);
        return List.of(
                figure("raw", "RocksDB raw: entry + changelog record per entry, 2 CFs, batches of 100, WAL, no fsync", entries, rates[0], raw),
                figure("single", "local commits of 1 entry each (WAL, no fsync)", singles, rates[1], raw),
                figure("batched", "local commits of 100 entries each", entries, rates[2], raw),
                figure("apply", "remote apply, batches of up to 100 records (4 MiB) of 100 entries", entries, rates[3], raw),
                figure("apply-single", "remote apply, batches of 100 single-entry records", singles, rates[4], raw));
    }

    private static Figure figure(String name, String description, long entries, double[] rates, double raw) {
        double perSecond = median(rates);
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        return new Figure(name, description, entries, entries / perSecond, perSecond, sorted[0], sorted[sorted.length - 1], perSecond / raw);
    }

    private static double median(double[] rates) {
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    // ---- workloads

    /** The same bytes the engine writes for a created entry: its stored state and its change record. */
    private static byte[][] rawRecord(long n, OriginBytes origin) {
        Attributes a = IdentityEntries.entry("raw-", n);
        Wire.Version.Builder v = Wire.Version.newBuilder();
        for (Map.Entry<String, List<ByteString>> e : a.values().entrySet()) {
            Wire.AttributeState.Builder s = Wire.AttributeState.newBuilder().setName(e.getKey());
            if (e.getKey().equals("memberof")) {
                s.setIsSet(true);
                e.getValue().forEach(value -> s.addSetValues(Wire.SetValue.newBuilder().setValue(value)));
            } else {
                s.addAllValues(e.getValue());
            }
            v.addAttributes(s);
        }
        long hlc = (System.currentTimeMillis() << 16) + n;
        Wire.Cid cid = Wire.Cid.newBuilder().setHlc(hlc).setOrigin(origin.bytes).build();
        byte[] state = Wire.EntryState.newBuilder().addVersions(v.clone().setCreated(cid)).build().toByteArray();
        byte[] record = Wire.ChangeRecord.newBuilder().setHlc(hlc).setOrigin(origin.bytes).setPrevHlc(hlc - 1)
                .addEntries(Wire.EntryChange.newBuilder().setNamespace(IdentityEntries.NAMESPACE)
                        .setId(ByteString.copyFrom(uuid(n))).setVersion(v)).build().toByteArray();
        return new byte[][] {state, record};
    }

    private record OriginBytes(ByteString bytes) {
    }

    private static byte[] uuid(long n) {
        return ByteBuffer.allocate(16).putLong(0x1234_5678_9abc_4defL).putLong(n).array();
    }

    public static double rawRocksDb(Path dir, int entries) throws Exception {
        RocksDB.loadLibrary();
        OriginBytes origin = new OriginBytes(ByteString.copyFrom(uuid(-1)));
        byte[] nsPrefix = ("\u0006" + IdentityEntries.NAMESPACE).getBytes(StandardCharsets.UTF_8);
        List<byte[][]> records = new ArrayList<>(entries);
        List<byte[]> keys = new ArrayList<>(entries);
        java.util.Random random = new java.util.Random(entries);
        for (int i = 0; i < entries; i++) {
            records.add(rawRecord(i, origin));
            // Entry ids are random UUIDs, as the engine's are: keys land all over the key space.
            keys.add(ByteBuffer.allocate(nsPrefix.length + 16).put(nsPrefix).putLong(random.nextLong()).putLong(random.nextLong()).array());
        }
        try (ColumnFamilyOptions cf = new ColumnFamilyOptions().setWriteBufferSize(64L << 20).setCompressionType(CompressionType.LZ4_COMPRESSION);
             DBOptions db = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true).setMaxBackgroundJobs(2);
             WriteOptions wo = new WriteOptions().setSync(false)) {
            List<ColumnFamilyHandle> handles = new ArrayList<>();
            Files.createDirectories(dir);
            try (RocksDB rocks = RocksDB.open(db, dir.toString(), List.of(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cf),
                    new ColumnFamilyDescriptor("entries".getBytes(StandardCharsets.UTF_8), cf),
                    new ColumnFamilyDescriptor("changelog".getBytes(StandardCharsets.UTF_8), cf)), handles)) {
                long start = System.nanoTime();
                for (int i = 0; i < entries; i += 100) {
                    try (WriteBatch b = new WriteBatch()) {
                        for (int j = i; j < Math.min(entries, i + 100); j++) {
                            b.put(handles.get(1), keys.get(j), records.get(j)[0]);
                            b.put(handles.get(2), ByteBuffer.allocate(24).put(uuid(-1)).putLong(j).array(), records.get(j)[1]);
                        }
                        rocks.write(wo, b);
                    }
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                handles.forEach(ColumnFamilyHandle::close);
                return entries / seconds;
            }
        } finally {
            TempDirs.delete(dir);
        }
    }

    private static Engine open(Path dir) {
        return Engine.open(EngineOptions.builder(dir).build());
    }

    static double singleCommits(Path dir, int entries) throws Exception {
        try (Engine e = open(dir)) {
            e.transaction().defineNamespace(IdentityEntries.NAMESPACE, IdentityEntries.schema()).commit();
            List<Attributes> prepared = prepare(entries, "single-");
            long start = System.nanoTime();
            for (Attributes a : prepared) {
                e.transaction().create(IdentityEntries.NAMESPACE, e.newEntryId(), a).commit();
            }
            return entries / ((System.nanoTime() - start) / 1e9);
        } finally {
            TempDirs.delete(dir);
        }
    }

    static double batchedCommits(Path dir, int entries) throws Exception {
        try (Engine e = open(dir)) {
            e.transaction().defineNamespace(IdentityEntries.NAMESPACE, IdentityEntries.schema()).commit();
            List<Attributes> prepared = prepare(entries, "batched-");
            long start = System.nanoTime();
            writeBatched(e, prepared, 100);
            return entries / ((System.nanoTime() - start) / 1e9);
        } finally {
            TempDirs.delete(dir);
        }
    }

    private static void writeBatched(Engine e, List<Attributes> entries, int perTransaction) {
        for (int i = 0; i < entries.size(); i += perTransaction) {
            Transaction tx = e.transaction();
            for (int j = i; j < Math.min(entries.size(), i + perTransaction); j++) {
                tx.create(IdentityEntries.NAMESPACE, e.newEntryId(), entries.get(j));
            }
            tx.commit();
        }
    }

    /** Applies, on a consumer that holds only the namespace, the changelog of a supplier that wrote the entries. */
    static double remoteApply(Path dir, int entries, int perTransaction) throws Exception {
        try (Engine supplier = open(dir.resolve("supplier")); Engine consumer = open(dir.resolve("consumer"))) {
            supplier.transaction().defineNamespace(IdentityEntries.NAMESPACE, IdentityEntries.schema()).commit();
            InProcessReplication.refresh(consumer, "consumer", supplier, "supplier", 1 << 20);
            writeBatched(supplier, prepare(entries, "apply-"), perTransaction);
            List<ChangeBatch> batches = new ArrayList<>();
            Ruv target;
            try (ChangeStream s = supplier.supplyChanges(consumer.ruv(), "consumer")) {
                ChangeBatch b;
                while ((b = s.next(100, 4L << 20)) != null) {
                    batches.add(b);
                }
                target = s.supplierRuv();
            }
            long start = System.nanoTime();
            for (ChangeBatch b : batches) {
                consumer.applyChanges(b, "supplier");
            }
            double rate = entries / ((System.nanoTime() - start) / 1e9);
            if (!consumer.missingFrom(target).isEmpty() || !consumer.digest().equals(supplier.digest())) {
                throw new IllegalStateException("remote apply did not converge: the figure would be meaningless");
            }
            return rate;
        } finally {
            TempDirs.delete(dir);
        }
    }

    private static List<Attributes> prepare(int entries, String prefix) {
        List<Attributes> out = new ArrayList<>(entries);
        for (int i = 0; i < entries; i++) {
            out.add(IdentityEntries.entry(prefix, i));
        }
        return out;
    }

    // ---- output

    private static void print(List<Figure> figures, boolean json) {
        if (json) {
            for (Figure f : figures) {
                System.out.printf(java.util.Locale.ROOT,
                        "{\"workload\":\"%s\",\"entries\":%d,\"seconds\":%.3f,\"entries_per_second\":%.0f,\"min\":%.0f,\"max\":%.0f,\"raw_entries_per_second\":%.0f,\"ratio_to_raw\":%.3f,\"cores\":%d}%n",
                        f.workload(), f.entries(), f.seconds(), f.perSecond(), f.min(), f.max(), figures.get(0).perSecond(), f.ratioToRaw(),
                        Runtime.getRuntime().availableProcessors());
            }
            return;
        }
        System.out.printf("%-13s %9s %9s %12s %19s %8s  %s%n", "workload", "entries", "seconds", "entries/s", "(min - max)", "vs raw", "what");
        for (Figure f : figures) {
            System.out.printf(java.util.Locale.ROOT, "%-13s %9d %9.2f %12.0f %19s %7.0f%%  %s%n",
                    f.workload(), f.entries(), f.seconds(), f.perSecond(), String.format("(%.0f - %.0f)", f.min(), f.max()),
                    f.ratioToRaw() * 100, f.description());
        }
        System.out.printf("(%d cores, %s, median of the rounds; raw = the machine's RocksDB limit measured in this run)%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    }


}
