package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.Cid;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.merge.AttributeState;
import dev.entente.engine.merge.EntryState;
import dev.entente.engine.merge.MergeArbitraries;
import dev.entente.engine.merge.Register;
import dev.entente.engine.merge.ValueMarks;
import dev.entente.engine.merge.ValueSet;
import dev.entente.engine.merge.Values;
import dev.entente.engine.merge.Version;
import dev.entente.protocol.Wire;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * What is stored or sent decodes to exactly what was encoded, whatever the CID contexts; and the
 * hand-written encoder writes the very bytes protobuf's generated classes write for
 * {@code changelog.proto} ({@link GeneratedWireReference}), so any protobuf reader reads them.
 */
class WireCodecProperties {

    @Provide
    Arbitrary<EntryState> states() {
        return MergeArbitraries.states();
    }

    @Provide
    Arbitrary<Cid> cids() {
        return MergeArbitraries.cids();
    }

    /** The latest CID the generators make: a record at it is never older than what it carries. */
    static final Cid LATEST = new Cid(6, new OriginId(0, 3));

    // ---- values of every length class: empty, short, and long enough for 2- and 3-byte length prefixes

    private static Arbitrary<ByteString> anyValues() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.strings().ofMinLength(0).ofMaxLength(20).map(ByteString::copyFromUtf8)),
                net.jqwik.api.Tuple.of(2, Arbitraries.bytes().array(byte[].class).ofMinSize(100).ofMaxSize(400).map(ByteString::copyFrom)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(16_000, 40_000).map(n -> ByteString.copyFrom(new byte[n]))));
    }

    private static Arbitrary<AttributeState> anyAttributes() {
        Arbitrary<AttributeState> registers = Combinators.combine(MergeArbitraries.cids(), anyValues().list().ofMaxSize(3))
                .as((c, v) -> new Register(c, v));
        Arbitrary<ValueMarks> marks = Combinators.combine(MergeArbitraries.cids(), MergeArbitraries.cids().injectNull(0.5)).as(ValueMarks::new);
        Arbitrary<AttributeState> sets = Arbitraries.maps(anyValues(), marks).ofMaxSize(4).map(m -> {
            TreeMap<ByteString, ValueMarks> t = new TreeMap<>(Values.ORDER);
            t.putAll(m);
            return new ValueSet(t);
        });
        return Arbitraries.oneOf(registers, sets);
    }

    private static Arbitrary<Version> anyVersions(Cid created) {
        Arbitrary<Version> live = Arbitraries.maps(Arbitraries.of("cn", "mail", "memberof", "x"), anyAttributes()).ofMaxSize(4)
                .map(m -> Version.live(created, m));
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(6, live),
                net.jqwik.api.Tuple.of(1, MergeArbitraries.cids().map(d -> Version.discarded(created, d))));
    }

    /** A record's entry deltas: creates (at the record's CID), modifies of older versions, discards, deletes. */
    @Provide
    Arbitrary<Change> changes() {
        Arbitrary<Change.EntryDelta> delta = Combinators.combine(Arbitraries.longs(), MergeArbitraries.cids(), Arbitraries.integers().between(0, 3))
                .flatAs((n, older, kind) -> {
                    UUID id = new UUID(n, ~n);
                    return switch (kind) {
                        case 0, 1 -> anyVersions(LATEST).map(v -> new Change.EntryDelta("people", id, EntryState.Live.of(v)));
                        case 2 -> anyVersions(older).map(v -> new Change.EntryDelta("groups", id, EntryState.Live.of(v)));
                        default -> Arbitraries.just(new Change.EntryDelta("people", id, new EntryState.Tombstone(older)));
                    };
                });
        Arbitrary<List<Namespace>> namespaces = Arbitraries.of(List.of(),
                List.of(new Namespace("people", Schema.builder().unique("mail").set("memberof").build(), LATEST)));
        return Combinators.combine(delta.list().ofMaxSize(6), namespaces, Arbitraries.longs().between(0, LATEST.hlc() - 1))
                .as((entries, ns, prev) -> new Change(LATEST, prev, ns, entries));
    }

    @Provide
    Arbitrary<EntryState> anyStates() {
        Arbitrary<EntryState> live = MergeArbitraries.cids().set().ofMinSize(1).ofMaxSize(3).flatMap(createds -> {
            List<Arbitrary<Version>> vs = createds.stream().map(WireCodecProperties::anyVersions).toList();
            return Combinators.combine(vs).as(list -> {
                TreeMap<Cid, Version> m = new TreeMap<>();
                list.forEach(v -> m.put(v.created(), v));
                return (EntryState) new EntryState.Live(m);
            });
        });
        return Arbitraries.oneOf(live, MergeArbitraries.cids().map(EntryState.Tombstone::new));
    }

    // ---- round trips

    @Property(tries = 1000)
    void storedEntryStatesRoundTrip(@ForAll("states") EntryState state) {
        assertEquals(state, WireCodec.state(WireCodec.state(state)));
    }

    @Property(tries = 1000)
    void changeRecordsRoundTrip(@ForAll("states") EntryState state) {
        Cid cid = LATEST;
        List<Change.EntryDelta> deltas = new ArrayList<>();
        UUID id = new UUID(7, 9);
        if (state instanceof EntryState.Live live) {
            live.versions().values().forEach(v -> deltas.add(new Change.EntryDelta("ns", id, EntryState.Live.of(v))));
        } else {
            deltas.add(new Change.EntryDelta("ns", id, state));
        }
        Change c = new Change(cid, cid.hlc() - 1, List.of(new Namespace("ns", Schema.builder().unique("x").set("y").build(), cid)), deltas);
        Change back = WireCodec.decode(WireCodec.encode(c).bytes(), "test").change();
        assertEquals(c, back);
    }

    // ---- the bytes are protobuf's

    @Property(tries = 500)
    void storedStatesAreByteForByteWhatTheGeneratedEncoderWrites(@ForAll("anyStates") EntryState state) {
        byte[] ours = WireCodec.state(state);
        assertArrayEquals(GeneratedWireReference.state(state), ours);
        assertEquals(state, WireCodec.state(ours));
    }

    @Property(tries = 500)
    void changeRecordsAreByteForByteWhatTheGeneratedEncoderWritesAndDecodeBack(@ForAll("changes") Change c) throws Exception {
        ChangeBytes ours = WireCodec.encode(c);
        byte[] reference = GeneratedWireReference.change(c).toByteArray();
        assertArrayEquals(reference, ours.bytes());
        ChangeBytes back = WireCodec.decode(reference, "test");
        assertEquals(c, back.change());
        assertArrayEquals(ours.versions(), back.versions(), "the reader finds the versions where the writer put them");
    }

    @Provide
    Arbitrary<List<FeedEvent.Change>> feedTouches() {
        Arbitrary<FeedEvent.Change> touch = Combinators.combine(Arbitraries.of(FeedEvent.Kind.class), Arbitraries.of("people", "groups", "n\u00e9", ""),
                Arbitraries.longs().map(l -> new UUID(l, ~l)).injectNull(0.1)).as(FeedEvent.Change::new);
        return touch.list().ofMaxSize(40);
    }

    /** Feed records are written by hand too: the same bytes as the generated encoder's, read back by the feed. */
    @Property(tries = 500)
    void feedRecordsAreByteForByteWhatTheGeneratedEncoderWritesAndReadBack(@ForAll("cids") Cid cid, @ForAll boolean reset, @ForAll boolean local,
                                                                         @ForAll long millis, @ForAll("feedTouches") List<FeedEvent.Change> touches) {
        Cid c = reset ? null : cid;
        byte[] ours = ChangeFeed.encode(c, local, millis, touches);
        assertArrayEquals(GeneratedWireReference.feedRecord(c, local, millis, touches), ours);
        FeedEvent back = ChangeFeed.decode(7, ours);
        assertEquals(touches, back.changes());
        assertEquals(c, back.cid());
        assertEquals(local, back.local());
        assertEquals(reset, back.reset());
        assertEquals(millis, back.committed().toEpochMilli());
    }

    /**
     * A created entry is stored as its record's version bytes behind its created CID: that must be
     * exactly the stored form of the single-version state, or digests and reads would differ.
     */
    @Property(tries = 500)
    void theStoredFormTakenFromARecordIsTheStoredFormOfTheState(@ForAll("changes") Change c) throws Exception {
        ChangeBytes encoded = WireCodec.encode(c);
        Wire.ChangeRecord parsed = Wire.ChangeRecord.parseFrom(encoded.bytes());
        for (int i = 0; i < c.entries().size(); i++) {
            EntryState delta = c.entries().get(i).delta();
            boolean created = delta instanceof EntryState.Live l && l.versions().firstKey().equals(c.cid()) && !l.versions().get(c.cid()).isDiscarded();
            assertEquals(created, encoded.reusable(i), "entry " + i + " is reusable exactly when the record created it");
            if (created) {
                byte[] stored = WireCodec.storedState(encoded.bytes(), encoded.versionStart(i), encoded.versionEnd(i), c.cid());
                assertArrayEquals(WireCodec.state(delta), stored);
                assertArrayEquals(GeneratedWireReference.state(parsed.getEntries(i).getVersion(), c.cid()), stored);
            }
        }
    }

    @Property(tries = 300)
    void unknownFieldsAreSkipped(@ForAll("changes") Change c, @ForAll @IntRange(min = 6, max = 1000) int field) {
        byte[] known = WireCodec.encode(c).bytes();
        Wire.ChangeRecord withUnknown = Wire.ChangeRecord.newBuilder(GeneratedWireReference.change(c))
                .setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
                        .addField(field, com.google.protobuf.UnknownFieldSet.Field.newBuilder().addVarint(42).addLengthDelimited(ByteString.copyFromUtf8("later")).build())
                        .build())
                .build();
        assertTrue(withUnknown.toByteArray().length > known.length);
        assertEquals(c, WireCodec.decode(withUnknown.toByteArray(), "test").change());
    }

    // ---- bad input

    /** Every CID a change carries, its namespaces' included, walked here independently of the codec. */
    private static List<Cid> allCids(Change c) {
        List<Cid> all = new ArrayList<>();
        c.namespaces().forEach(ns -> all.add(ns.cid()));
        for (Change.EntryDelta d : c.entries()) {
            if (d.delta() instanceof EntryState.Tombstone t) {
                all.add(t.deleted());
                continue;
            }
            for (Version v : ((EntryState.Live) d.delta()).versions().values()) {
                all.add(v.created());
                if (v.isDiscarded()) {
                    all.add(v.discarded());
                }
                v.attributes().values().forEach(a -> {
                    if (a instanceof Register r) {
                        all.add(r.cid());
                    } else {
                        ((ValueSet) a).values().values().forEach(m -> {
                            all.add(m.added());
                            if (m.removed() != null) {
                                all.add(m.removed());
                            }
                        });
                    }
                });
            }
        }
        return all;
    }

    /**
     * A record may carry no CID later than its own: such a CID would win every later merge and slip
     * past the clock-skew check, which sees only the record's. The same entries are put in a
     * record at an arbitrary CID, so that some of theirs are later.
     */
    @Property(tries = 1000)
    void aRecordCarryingACidLaterThanItsOwnIsRefusedAndOnlyThen(@ForAll("changes") Change c, @ForAll("cids") Cid at) {
        Change moved = new Change(at, at.hlc() - 1, c.namespaces(), c.entries());
        byte[] bytes = WireCodec.encode(moved).bytes();
        boolean carriesLater = allCids(moved).stream().anyMatch(x -> x.compareTo(at) > 0);
        if (carriesLater) {
            MalformedChangeException e = assertThrows(MalformedChangeException.class, () -> WireCodec.decode(bytes, "test"));
            assertTrue(e.getMessage().contains("later than its own change"), e.getMessage());
        } else {
            assertEquals(moved, WireCodec.decode(bytes, "test").change());
        }
    }

    /** Whatever the bytes, decoding gives a change or a MalformedChangeException: never another exception. */
    @Property(tries = 500)
    void corruptRecordsAreRefusedCleanly(@ForAll("changes") Change c, @ForAll @Size(max = 4) List<@IntRange(min = 0, max = 1 << 20) Integer> flips,
                                         @ForAll @IntRange(min = 0, max = 1 << 20) int cut) {
        byte[] bytes = WireCodec.encode(c).bytes();
        for (int f : flips) {
            bytes[f % bytes.length] ^= (byte) (1 << (f % 8));
        }
        byte[] input = java.util.Arrays.copyOf(bytes, cut % (bytes.length + 1));
        try {
            WireCodec.decode(input, "test");
        } catch (MalformedChangeException expected) {
            assertTrue(expected.getMessage().contains("from test"), expected.getMessage());
        }
    }

    /** Whatever the bytes, reading a stored state gives a state or a MalformedChangeException. */
    @Property(tries = 1000)
    void corruptStoredStatesAreRefusedCleanly(@ForAll("anyStates") EntryState state, @ForAll @Size(max = 4) List<@IntRange(min = 0, max = 1 << 20) Integer> flips,
                                              @ForAll @IntRange(min = 0, max = 1 << 20) int cut) {
        byte[] bytes = WireCodec.state(state);
        for (int f : flips) {
            bytes[f % bytes.length] ^= (byte) (1 << (f % 8));
        }
        try {
            WireCodec.state(java.util.Arrays.copyOf(bytes, cut % (bytes.length + 1)));
        } catch (MalformedChangeException expected) {
            assertTrue(expected.getMessage().startsWith("stored entry state is corrupt"), expected.getMessage());
        }
    }

    /**
     * Found by {@link #corruptStoredStatesAreRefusedCleanly} (seed -1385369433448973428): a flipped
     * length made an attribute name take in the next byte, and the name check's own exception
     * escaped instead of {@link MalformedChangeException}.
     */
    @Example
    void aStoredStateWithAnInvalidAttributeNameIsCorrupt() {
        Cid c = new Cid(3, new OriginId(0, 1));
        TreeMap<ByteString, ValueMarks> marks = new TreeMap<>(Values.ORDER);
        marks.put(ByteString.EMPTY, new ValueMarks(new Cid(1, new OriginId(0, 1)), null));
        byte[] bytes = WireCodec.state(EntryState.Live.of(Version.live(c, java.util.Map.of("cn", new ValueSet(marks)))));
        boolean replaced = false;
        for (int i = 0; i + 1 < bytes.length; i++) {
            if (bytes[i] == 'c' && bytes[i + 1] == 'n') {
                bytes[i + 1] = '*';
                replaced = true;
            }
        }
        assertTrue(replaced);
        MalformedChangeException e = assertThrows(MalformedChangeException.class, () -> WireCodec.state(bytes));
        assertTrue(e.getMessage().startsWith("stored entry state is corrupt") && e.getMessage().contains("c*"), e.getMessage());
    }

    @Example
    void aTruncatedRecordSaysWhereItCameFrom() {
        Change c = new Change(LATEST, 0, List.of(), List.of(new Change.EntryDelta("ns", new UUID(1, 2), new EntryState.Tombstone(LATEST))));
        byte[] bytes = WireCodec.encode(c).bytes();
        MalformedChangeException e = assertThrows(MalformedChangeException.class,
                () -> WireCodec.decode(java.util.Arrays.copyOf(bytes, bytes.length - 3), "supplier 'b'"));
        assertTrue(e.getMessage().startsWith("change record from supplier 'b' cannot be decoded"), e.getMessage());
    }

    @Example
    void aStringThatIsNotUtf8IsRefused() {
        byte[] bytes = Wire.ChangeRecord.newBuilder().setHlc(5).setOrigin(ByteString.copyFrom(new byte[16]))
                .addEntries(Wire.EntryChange.newBuilder().setNamespace("n~s")
                        .setId(ByteString.copyFrom(new byte[16])).setDeleted(Wire.Cid.getDefaultInstance()))
                .build().toByteArray();
        // A lone UTF-8 lead byte in place of the '~': the generated builder would not write it.
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '~') {
                bytes[i] = (byte) 0xC3;
            }
        }
        MalformedChangeException e = assertThrows(MalformedChangeException.class, () -> WireCodec.decode(bytes, "test"));
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
        assertFalse(e.getMessage().isEmpty());
    }
}
