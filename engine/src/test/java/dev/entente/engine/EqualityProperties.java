package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.Cid;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.merge.EntryState;
import dev.entente.engine.merge.MergeArbitraries;
import java.util.Arrays;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The equals and hashCode that the apply path's records write out by hand (instead of the
 * generated ones, see {@link Cid}) against independent definitions: the stored form for entry
 * states, the components for keys and CIDs. The small universes make equal pairs frequent.
 */
class EqualityProperties {

    @Property(tries = 3000)
    void twoEntryStatesAreEqualExactlyWhenTheirStoredFormsAreAndEqualOnesHashAlike(@ForAll("states") EntryState a, @ForAll("states") EntryState b) {
        boolean sameForm = Arrays.equals(WireCodec.state(a), WireCodec.state(b));
        assertEquals(sameForm, a.equals(b), () -> a + " and " + b);
        if (sameForm) {
            assertEquals(a.hashCode(), b.hashCode(), () -> a + " and " + b);
        }
    }

    @Property(tries = 1000)
    void anEntryStateReadBackFromItsStoredFormEqualsItAndHashesAlike(@ForAll("states") EntryState a) {
        EntryState back = WireCodec.state(WireCodec.state(a));
        assertEquals(a, back);
        assertEquals(a.hashCode(), back.hashCode());
    }

    @Property(tries = 1000)
    void cidsAreEqualExactlyWhenTheirHlcAndOriginAreAndEqualOnesHashAlike(@ForAll("cids") Cid a, @ForAll("cids") Cid b) {
        boolean same = a.hlc() == b.hlc() && a.origin().hi() == b.origin().hi() && a.origin().lo() == b.origin().lo();
        assertEquals(same, a.equals(b));
        assertEquals(same, a.origin().equals(b.origin()) && a.hlc() == b.hlc());
        if (same) {
            assertEquals(a.hashCode(), b.hashCode());
            assertEquals(a.origin().hashCode(), b.origin().hashCode());
        }
    }

    @Property(tries = 1000)
    void commitKeysAreEqualExactlyWhenTheirPartsAreAndEqualOnesHashAlike(@ForAll("names") String ns1, @ForAll("names") String ns2,
                                                                        @ForAll("ids") UUID id1, @ForAll("ids") UUID id2,
                                                                        @ForAll("names") String attr1, @ForAll("names") String attr2,
                                                                        @ForAll("names") String v1, @ForAll("names") String v2) {
        // New strings and byte strings each time, so that equality cannot rest on identity.
        CommitBatch.EntryKey e1 = new CommitBatch.EntryKey(new String(ns1), new UUID(id1.getMostSignificantBits(), id1.getLeastSignificantBits()));
        CommitBatch.EntryKey e2 = new CommitBatch.EntryKey(new String(ns2), id2);
        boolean sameEntry = ns1.equals(ns2) && id1.equals(id2);
        assertEquals(sameEntry, e1.equals(e2));
        if (sameEntry) {
            assertEquals(e1.hashCode(), e2.hashCode());
        }
        CommitBatch.UniqueKey u1 = new CommitBatch.UniqueKey(new String(ns1), new String(attr1), ByteString.copyFromUtf8(v1));
        CommitBatch.UniqueKey u2 = new CommitBatch.UniqueKey(ns2, attr2, ByteString.copyFromUtf8(v2));
        boolean sameGroup = ns1.equals(ns2) && attr1.equals(attr2) && v1.equals(v2);
        assertEquals(sameGroup, u1.equals(u2));
        if (sameGroup) {
            assertEquals(u1.hashCode(), u2.hashCode());
        }
    }

    @Provide
    Arbitrary<EntryState> states() {
        return MergeArbitraries.states();
    }

    @Provide
    Arbitrary<Cid> cids() {
        return Arbitraries.longs().between(1, 3).flatMap(hlc -> Arbitraries.longs().between(0, 2)
                .flatMap(hi -> Arbitraries.longs().between(0, 2).map(lo -> new Cid(hlc, new OriginId(hi, lo)))));
    }

    @Provide
    Arbitrary<String> names() {
        return Arbitraries.of("people", "groups", "name");
    }

    @Provide
    Arbitrary<UUID> ids() {
        return Arbitraries.longs().between(0, 2).map(n -> new UUID(7, n));
    }
}
