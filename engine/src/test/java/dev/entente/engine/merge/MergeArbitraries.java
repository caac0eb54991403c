package dev.entente.engine.merge;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.Cid;
import dev.entente.engine.clock.OriginId;
import java.util.List;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Generators of entry states over deliberately small universes (3 origins, 6 HLC values, 3
 * values, 2 attributes), so that generated states collide on CIDs, versions and values often.
 */
public final class MergeArbitraries {
    private MergeArbitraries() {
    }

    public static Arbitrary<Cid> cids() {
        return Combinators.combine(Arbitraries.longs().between(1, 6), Arbitraries.integers().between(1, 3))
                .as((hlc, o) -> new Cid(hlc, new OriginId(0, o)));
    }

    static Arbitrary<ByteString> values() {
        return Arbitraries.of("a", "b", "c").map(ByteString::copyFromUtf8);
    }

    static Arbitrary<AttributeState> registers() {
        return Combinators.combine(cids(), values().list().ofMaxSize(2)).as(Register::new);
    }

    static Arbitrary<AttributeState> valueSets() {
        Arbitrary<ValueMarks> marks = Combinators.combine(cids(), cids().injectNull(0.5)).as(ValueMarks::new);
        return Arbitraries.maps(values(), marks).ofMaxSize(3).map(m -> {
            TreeMap<ByteString, ValueMarks> t = new TreeMap<>(Values.ORDER);
            t.putAll(m);
            return (AttributeState) new ValueSet(t);
        });
    }

    static Arbitrary<AttributeState> attributes() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, registers()),
                net.jqwik.api.Tuple.of(3, valueSets()));
    }

    static Arbitrary<Version> versions(Cid created) {
        Arbitrary<Version> live = Arbitraries.maps(Arbitraries.of("x", "y"), attributes()).ofMaxSize(2)
                .map(m -> Version.live(created, m));
        Arbitrary<Version> discarded = cids().map(d -> Version.discarded(created, d));
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(5, live), net.jqwik.api.Tuple.of(1, discarded));
    }

    public static Arbitrary<EntryState> states() {
        Arbitrary<EntryState> live = cids().set().ofMinSize(1).ofMaxSize(3).flatMap(createds -> {
            List<Arbitrary<Version>> vs = createds.stream().map(MergeArbitraries::versions).toList();
            return Combinators.combine(vs).as(list -> {
                TreeMap<Cid, Version> m = new TreeMap<>();
                list.forEach(v -> m.put(v.created(), v));
                return (EntryState) new EntryState.Live(m);
            });
        });
        Arbitrary<EntryState> tombstone = cids().map(EntryState.Tombstone::new);
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(6, live), net.jqwik.api.Tuple.of(1, tombstone));
    }
}
