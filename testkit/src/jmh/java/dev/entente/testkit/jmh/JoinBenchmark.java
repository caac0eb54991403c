package dev.entente.testkit.jmh;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.Cid;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.merge.AttributeState;
import dev.entente.engine.merge.EntryState;
import dev.entente.engine.merge.Merge;
import dev.entente.engine.merge.Register;
import dev.entente.engine.merge.ValueMarks;
import dev.entente.engine.merge.ValueSet;
import dev.entente.engine.merge.Version;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The join of two states of one identity-like entry (four registers and a set of three groups),
 * as the consumer computes it for every remote change: one side a concurrent edit of a register
 * and of the set; and the join with an equal copy of itself (a duplicate delivery).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class JoinBenchmark {
    private EntryState local;
    private EntryState remote;
    private EntryState localAgain;

    @Setup
    public void setup() {
        OriginId a = new OriginId(1, 1);
        OriginId b = new OriginId(2, 2);
        Cid created = new Cid(1000L << 16, a);
        Cid editA = new Cid(2000L << 16, a);
        Cid editB = new Cid(2000L << 16 | 1, b);
        local = EntryState.Live.of(version(created, editA, "User A", List.of("cn=g1", "cn=g2", "cn=g3"), created));
        localAgain = EntryState.Live.of(version(created, editA, "User A", List.of("cn=g1", "cn=g2", "cn=g3"), created));
        remote = EntryState.Live.of(version(created, editB, "User B", List.of("cn=g1", "cn=g2", "cn=g4"), editB));
    }

    private static Version version(Cid created, Cid edit, String display, List<String> groups, Cid groupsAdded) {
        SortedMap<String, AttributeState> attrs = new TreeMap<>();
        attrs.put("name", new Register(created, List.of(ByteString.copyFromUtf8("user0000001"))));
        attrs.put("displayname", new Register(edit, List.of(ByteString.copyFromUtf8(display + " of the Example Organisation"))));
        attrs.put("mail", new Register(created, List.of(ByteString.copyFromUtf8("user0000001@mail.example.org"))));
        SortedMap<ByteString, ValueMarks> set = new TreeMap<>(ByteString.unsignedLexicographicalComparator());
        for (String g : groups) {
            set.put(ByteString.copyFromUtf8(g + ",ou=groups,dc=example,dc=org"), new ValueMarks(groupsAdded, null));
        }
        attrs.put("memberof", new ValueSet(set));
        return new Version(created, attrs, null);
    }

    @Benchmark
    public EntryState concurrentEdits() {
        return Merge.join(local, remote);
    }

    @Benchmark
    public EntryState duplicateDelivery() {
        return Merge.join(local, localAgain);
    }
}
