package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.entente.engine.merge.EntryState;
import dev.entente.engine.merge.MergeArbitraries;
import java.util.List;
import java.util.UUID;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** What is stored or sent decodes to exactly what was encoded, whatever the CID contexts. */
class WireCodecProperties {

    @Provide
    Arbitrary<EntryState> states() {
        return MergeArbitraries.states();
    }

    @Provide
    Arbitrary<Cid> cids() {
        return MergeArbitraries.cids();
    }

    @Property(tries = 1000)
    void storedEntryStatesRoundTrip(@ForAll("states") EntryState state) {
        assertEquals(state, WireCodec.state(WireCodec.state(state)));
    }

    /** The latest CID the generators make: a record at it is never older than what it carries. */
    static final Cid LATEST = new Cid(6, new OriginId(0, 3));

    @Property(tries = 1000)
    void changeRecordsRoundTrip(@ForAll("states") EntryState state) {
        Cid cid = LATEST;
        List<Change.EntryDelta> deltas = new java.util.ArrayList<>();
        UUID id = new UUID(7, 9);
        if (state instanceof EntryState.Live live) {
            live.versions().values().forEach(v -> deltas.add(new Change.EntryDelta("ns", id, EntryState.Live.of(v))));
        } else {
            deltas.add(new Change.EntryDelta("ns", id, state));
        }
        Change c = new Change(cid, cid.hlc() - 1, List.of(new Namespace("ns", Schema.builder().unique("x").set("y").build(), cid)), deltas);
        Change back = WireCodec.change(WireCodec.change(c).toByteString(), "test");
        assertEquals(c, back);
    }

    @Property(tries = 300)
    void aRecordCarryingACidLaterThanItselfIsRefused(@ForAll("cids") Cid inner) {
        Cid record = new Cid(1, new OriginId(0, 1));
        net.jqwik.api.Assume.that(inner.compareTo(record) > 0);
        Change c = new Change(record, 0, List.of(), List.of(new Change.EntryDelta("ns", new UUID(1, 2), new EntryState.Tombstone(inner))));
        org.junit.jupiter.api.Assertions.assertThrows(MalformedChangeException.class,
                () -> WireCodec.change(WireCodec.change(c).toByteString(), "test"));
    }
}
