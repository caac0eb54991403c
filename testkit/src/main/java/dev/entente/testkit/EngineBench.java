package dev.entente.testkit;

import dev.entente.engine.session.InProcessReplication;
import com.google.protobuf.ByteString;
import dev.entente.engine.Attributes;
import dev.entente.engine.ChangeBatch;
import dev.entente.engine.ChangeStream;
import dev.entente.engine.Engine;
import dev.entente.engine.EngineOptions;
import dev.entente.engine.PreparedBatch;
import dev.entente.engine.Ruv;
import dev.entente.engine.Transaction;
import dev.entente.protocol.Wire;
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

    record Figure(String workload, String description, long entries, double seconds, double perSecond, double min, double max, double ratioToRaw,
                  double cpuMicrosPerEntry, double allocatedBytesPerEntry) {
    }

    /**
     * A fixed heap, touched at start: the collector cannot shrink it between timed parts, so no
     * part pays to fault pages back in (see {@link ForkedJvm}). 2 GB holds the largest run's input.
     */
    static final String DEFAULT_JVM_OPTIONS = "-Xms2g -Xmx2g -XX:+AlwaysPreTouch";

    private EngineBench() {
    }

    /** What {@code bench-engine} runs: see its command's help. */
    record Settings(int entries, int singles, int rounds, boolean json, Path dir, String jvm, boolean inProcess) {
    }

    /**
     * Runs the engine bench in a JVM of its own with {@code jvm} options, unless asked to run in
     * this one or this is that JVM already; {@code args} are the command's own, for the child.
     */
    static int run(Settings s, List<String> args) throws Exception {
        if (!s.inProcess() && ForkedJvm.forkedWith() == null) {
            // The child gets the same arguments: being forked, it ignores --jvm and runs in-process.
            return ForkedJvm.run(ForkedJvm.split(s.jvm()), "bench-engine", args);
        }
        int entries = s.entries();
        int singles = s.singles();
        int rounds = s.rounds();
        boolean json = s.json();
        Path dir = s.dir();
        Path root = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("entente-bench");
        try {
            // Warm the JIT on a small run of every workload, then measure.
            runAll(root, Math.min(entries, 20_000), Math.min(singles, 10_000), 1);
            List<Figure> figures = new ArrayList<>(runAll(root, entries, singles, rounds));
            figures.add(applyCold(root.resolve("apply-cold"), Math.min(entries, ColdApply.ENTRIES), rounds, figures.get(0).perSecond()));
            print(figures, json);
            return 0;
        } finally {
            TempDirs.delete(root);
        }
    }

    private static List<Figure> runAll(Path root, int entries, int singles, int rounds) throws Exception {
        // Rounds interleave the workloads, so that the raw limit and the engine's figures are taken
        // under the same conditions (this machine's disk and background compactions are noisy).
        Sample[][] samples = new Sample[7][rounds];
        for (int r = 0; r < rounds; r++) {
            samples[0][r] = measure(entries, t -> rawRocksDb(root.resolve("raw"), entries, t));
            samples[1][r] = measure(singles, t -> singleCommits(root.resolve("single"), singles, t));
            samples[2][r] = measure(entries, t -> batchedCommits(root.resolve("batched"), entries, t));
            samples[3][r] = measure(entries, t -> remoteApply(root.resolve("apply"), entries, 100, false, t));
            samples[4][r] = measure(entries, t -> remoteApply(root.resolve("apply-pipelined"), entries, 100, true, t));
            samples[5][r] = measure(singles, t -> remoteApply(root.resolve("apply-single"), singles, 1, false, t));
            samples[6][r] = measure(entries, t -> refresh(root.resolve("refresh"), entries, t));
        }
        double raw = median(samples[0]);
        return List.of(
                figure("raw", "RocksDB raw: entry + changelog record per entry, 2 CFs, batches of 100, WAL, no fsync", entries, samples[0], raw),
                figure("single", "local commits of 1 entry each (WAL, no fsync)", singles, samples[1], raw),
                figure("batched", "local commits of 100 entries each", entries, samples[2], raw),
                figure("apply", "remote apply, batches of up to 100 records (4 MiB) of 100 entries", entries, samples[3], raw),
                figure("apply-pipelined", "the same, each batch decoded on a second thread while the previous one commits, as a node does", entries, samples[4], raw),
                figure("apply-single", "remote apply, batches of 100 single-entry records", singles, samples[5], raw),
                figure("refresh", "a refresh's import: the supplier's snapshot in 1 MiB chunks, built aside and switched to", entries, samples[6], raw));
    }

    /** R rounds of {@link ColdApply}, each in a new JVM with the options this one was started with. */
    private static Figure applyCold(Path dir, int entries, int rounds, double raw) throws Exception {
        Files.createDirectories(dir);
        ColdApply.prepare(dir, entries);
        List<String> options = ForkedJvm.split(ForkedJvm.forkedWith());
        Sample[] samples = new Sample[rounds];
        for (int r = 0; r < rounds; r++) {
            samples[r] = ColdApply.measure(dir, options);
        }
        return figure("apply-cold", "remote apply in a new JVM (JIT warm-up included): records of 1,000 entries, 1 MiB batches, decoded on a second thread",
                entries, samples, raw);
    }

    /**
     * One run of a workload: its rate, and the CPU time the whole process spent per entry in the
     * timed part (every thread: RocksDB's flushes and compactions, the collector and the compiler
     * too), a figure that other load on the machine disturbs less than the rate.
     */
    record Sample(double perSecond, double cpuMicrosPerEntry, double allocatedBytesPerEntry) {
    }

    /** Times the measured part of a workload, leaving out its set-up. */
    static final class Timer {
        private final com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        private final com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        private long startNanos;
        private long startCpu;
        private long startAllocated;
        private long nanos;
        private long cpu;
        private long allocated;

        void start() {
            // The harness's input (entries, batches), made just before, would otherwise be copied
            // by the collector inside the timed part, a cost that belongs to no engine path.
            System.gc();
            startCpu = os.getProcessCpuTime();
            startAllocated = threads.getTotalThreadAllocatedBytes();
            startNanos = System.nanoTime();
        }

        void stop() {
            nanos = System.nanoTime() - startNanos;
            cpu = os.getProcessCpuTime() - startCpu;
            allocated = threads.getTotalThreadAllocatedBytes() - startAllocated;
        }

        Sample sample(long entries) {
            return new Sample(entries / (nanos / 1e9), cpu / 1e3 / entries, (double) allocated / entries);
        }
    }

    interface Workload {
        void run(Timer timer) throws Exception;
    }

    private static Sample measure(long entries, Workload w) throws Exception {
        Timer t = new Timer();
        w.run(t);
        return t.sample(entries);
    }

    private static Figure figure(String name, String description, long entries, Sample[] samples, double raw) {
        double[] rates = Arrays.stream(samples).mapToDouble(Sample::perSecond).toArray();
        double perSecond = median(rates);
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        double cpu = median(Arrays.stream(samples).mapToDouble(Sample::cpuMicrosPerEntry).toArray());
        double allocated = median(Arrays.stream(samples).mapToDouble(Sample::allocatedBytesPerEntry).toArray());
        return new Figure(name, description, entries, entries / perSecond, perSecond, sorted[0], sorted[sorted.length - 1], perSecond / raw, cpu, allocated);
    }

    private static double median(Sample[] samples) {
        return median(Arrays.stream(samples).mapToDouble(Sample::perSecond).toArray());
    }

    private static double median(double[] rates) {
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    // ---- workloads

    private static Map<String, List<ByteString>> bytesOf(Attributes a) {
        Map<String, List<ByteString>> m = new java.util.TreeMap<>();
        a.values().forEach((name, vs) -> m.put(name, vs.stream().map(v -> ByteString.copyFrom(v.bytes())).toList()));
        return m;
    }

    /** The same bytes the engine writes for a created entry: its stored state and its change record. */
    private static byte[][] rawRecord(long n, OriginBytes origin) {
        Attributes a = IdentityEntries.entry("raw-", n);
        Wire.Version.Builder v = Wire.Version.newBuilder();
        for (Map.Entry<String, List<ByteString>> e : bytesOf(a).entrySet()) {
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

    /** The raw rate in entries/s. */
    public static double rawRocksDb(Path dir, int entries) throws Exception {
        Timer t = new Timer();
        rawRocksDb(dir, entries, t);
        return t.sample(entries).perSecond();
    }

    static void rawRocksDb(Path dir, int entries, Timer timer) throws Exception {
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
                timer.start();
                for (int i = 0; i < entries; i += 100) {
                    try (WriteBatch b = new WriteBatch()) {
                        for (int j = i; j < Math.min(entries, i + 100); j++) {
                            b.put(handles.get(1), keys.get(j), records.get(j)[0]);
                            b.put(handles.get(2), ByteBuffer.allocate(24).put(uuid(-1)).putLong(j).array(), records.get(j)[1]);
                        }
                        rocks.write(wo, b);
                    }
                }
                timer.stop();
                handles.forEach(ColumnFamilyHandle::close);
            }
        } finally {
            TempDirs.delete(dir);
        }
    }

    private static Engine open(Path dir) {
        return Engine.open(EngineOptions.builder(dir).build());
    }

    static void singleCommits(Path dir, int entries, Timer timer) throws Exception {
        try (Engine e = open(dir)) {
            e.transaction().defineNamespace(IdentityEntries.NAMESPACE, IdentityEntries.schema()).commit();
            List<Attributes> prepared = prepare(entries, "single-");
            timer.start();
            for (Attributes a : prepared) {
                e.transaction().create(IdentityEntries.NAMESPACE, e.newEntryId(), a).commit();
            }
            timer.stop();
        } finally {
            TempDirs.delete(dir);
        }
    }

    static void batchedCommits(Path dir, int entries, Timer timer) throws Exception {
        try (Engine e = open(dir)) {
            e.transaction().defineNamespace(IdentityEntries.NAMESPACE, IdentityEntries.schema()).commit();
            List<Attributes> prepared = prepare(entries, "batched-");
            timer.start();
            writeBatched(e, prepared, 100);
            timer.stop();
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

    /**
     * Applies, on a consumer that holds only the namespace, the changelog of a supplier that wrote
     * the entries. Pipelined, a second thread decodes each batch ({@code prepareChanges}) while the
     * previous one commits, as a node's network thread does.
     */
    static void remoteApply(Path dir, int entries, int perTransaction, boolean pipelined, Timer timer) throws Exception {
        try (Engine supplier = open(dir.resolve("supplier")); Engine consumer = open(dir.resolve("consumer"))) {
            Supplied supplied = supplyEntries(supplier, consumer, entries, perTransaction, "apply-", 100, 4L << 20);
            List<ChangeBatch> batches = supplied.batches();
            Ruv target = supplied.target();
            timer.start();
            if (pipelined) {
                applyPipelined(consumer, batches);
            } else {
                for (ChangeBatch b : batches) {
                    consumer.applyChanges(b, "supplier");
                }
            }
            timer.stop();
            if (!consumer.missingFrom(target).isEmpty() || !consumer.digest().equals(supplier.digest())) {
                throw new IllegalStateException("remote apply did not converge: the figure would be meaningless");
            }
        } finally {
            TempDirs.delete(dir);
        }
    }

    /**
     * A refresh's import on the consumer (W5 without the network and the new JVM): the supplier,
     * holding {@code entries} written in transactions of 1,000, cuts its snapshot into 1 MiB
     * chunks beforehand; the timed part builds the store aside from them and switches to it.
     */
    static void refresh(Path dir, int entries, Timer timer) throws Exception {
        try (Engine supplier = open(dir.resolve("supplier")); Engine consumer = open(dir.resolve("consumer"))) {
            supplier.transaction().defineNamespace(IdentityEntries.NAMESPACE, IdentityEntries.schema()).commit();
            writeBatched(supplier, prepare(entries, "refresh-"), 1000);
            List<ByteString> chunks = new ArrayList<>();
            try (dev.entente.engine.SnapshotExport x = supplier.exportSnapshot("consumer")) {
                for (ByteString c; (c = x.nextChunk(1 << 20)) != null; ) {
                    chunks.add(c);
                }
            }
            consumer.markRefreshRequired("a refresh is measured");
            timer.start();
            try (dev.entente.engine.SnapshotImport imp = consumer.beginRefresh("supplier")) {
                for (ByteString c : chunks) {
                    imp.accept(c);
                }
                imp.complete();
            }
            timer.stop();
            if (!consumer.digest().equals(supplier.digest())) {
                throw new IllegalStateException("the refresh did not make a clone of the supplier: the figure would be meaningless");
            }
        } finally {
            TempDirs.delete(dir);
        }
    }

    /** A supplier's changes for a consumer, cut into batches, and the supplier's RUV at their end. */
    record Supplied(List<ChangeBatch> batches, Ruv target) {
    }

    /**
     * Gives {@code consumer} (new) the namespace by refresh from {@code supplier} (new), has the
     * supplier write {@code entries} in transactions of {@code perTransaction}, and returns its
     * changes for the consumer, cut as asked.
     */
    static Supplied supplyEntries(Engine supplier, Engine consumer, int entries, int perTransaction, String prefix,
                                  int batchRecords, long batchBytes) {
        supplier.transaction().defineNamespace(IdentityEntries.NAMESPACE, IdentityEntries.schema()).commit();
        InProcessReplication.refresh(consumer, "consumer", supplier, "supplier", 1 << 20);
        writeBatched(supplier, prepare(entries, prefix), perTransaction);
        List<ChangeBatch> batches = new ArrayList<>();
        try (ChangeStream s = supplier.supplyChanges(consumer.ruv(), "consumer")) {
            for (ChangeBatch b; (b = s.next(batchRecords, batchBytes)) != null; ) {
                batches.add(b);
            }
            return new Supplied(batches, s.supplierRuv());
        }
    }

    /** Applies the batches, each decoded ({@code prepareChanges}) on a second thread while the previous one commits. */
    static void applyPipelined(Engine consumer, List<ChangeBatch> batches) throws InterruptedException {
        java.util.concurrent.BlockingQueue<PreparedBatch> decoded = new java.util.concurrent.ArrayBlockingQueue<>(2);
        java.util.concurrent.CompletableFuture<Void> decoder = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                for (ChangeBatch b : batches) {
                    decoded.put(consumer.prepareChanges(b, "supplier"));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("decoding interrupted", e);
            }
        }, runnable -> {
            Thread t = new Thread(runnable, "bench-decoder");
            t.setDaemon(true);
            t.start();
        });
        for (int i = 0; i < batches.size(); i++) {
            PreparedBatch p = decoded.poll(60, java.util.concurrent.TimeUnit.SECONDS);
            if (p == null) {
                decoder.join();
                throw new IllegalStateException("the decoding thread stopped after " + i + " of " + batches.size() + " batches");
            }
            consumer.applyChanges(p);
        }
        decoder.join();
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
                        "{\"workload\":\"%s\",\"entries\":%d,\"seconds\":%.3f,\"entries_per_second\":%.0f,\"min\":%.0f,\"max\":%.0f,\"raw_entries_per_second\":%.0f,\"ratio_to_raw\":%.3f,\"cpu_us_per_entry\":%.2f,\"heap_bytes_per_entry\":%.0f,\"cores\":%d,\"jvm_options\":\"%s\"}%n",
                        f.workload(), f.entries(), f.seconds(), f.perSecond(), f.min(), f.max(), figures.get(0).perSecond(), f.ratioToRaw(), f.cpuMicrosPerEntry(),
                        f.allocatedBytesPerEntry(),
                        Runtime.getRuntime().availableProcessors(), jvmOptions());
            }
            return;
        }
        System.out.printf("%-15s %8s %8s %10s %19s %7s %11s %11s  %s%n", "workload", "entries", "seconds", "entries/s", "(min - max)", "vs raw", "CPU/entry",
                "heap/entry", "what");
        for (Figure f : figures) {
            System.out.printf(java.util.Locale.ROOT, "%-15s %8d %8.2f %10.0f %19s %6.0f%% %8.1f µs %9.0f B  %s%n",
                    f.workload(), f.entries(), f.seconds(), f.perSecond(), String.format("(%.0f - %.0f)", f.min(), f.max()),
                    f.ratioToRaw() * 100, f.cpuMicrosPerEntry(), f.allocatedBytesPerEntry(), f.description());
        }
        System.out.printf("(%d cores, %s with %s, median of the rounds; raw = the machine's RocksDB limit measured in this run; CPU/entry = CPU time of every thread of the process during the timed part, per entry; heap/entry = bytes allocated on the Java heap by every thread in it, per entry)%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name") + " " + System.getProperty("java.version"), jvmOptions());
    }

    private static String jvmOptions() {
        String forked = ForkedJvm.forkedWith();
        // goes into a JSON string too
        return (forked != null ? forked : "the launcher's heap (--in-process)").replace("\\", "\\\\").replace("\"", "\\\"");
    }


}
