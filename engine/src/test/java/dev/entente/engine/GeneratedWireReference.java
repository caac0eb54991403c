package dev.entente.engine;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.Cid;
import dev.entente.engine.merge.AttributeState;
import dev.entente.engine.merge.EntryState;
import dev.entente.engine.merge.Register;
import dev.entente.engine.merge.ValueMarks;
import dev.entente.engine.merge.ValueSet;
import dev.entente.engine.merge.Version;
import dev.entente.protocol.Ids;
import dev.entente.protocol.Wire;
import java.util.Map;

/**
 * The change-record and entry-state encodings built with protobuf's generated classes from
 * {@code changelog.proto}: the reference that {@link WireCodec}'s hand-written encoder must match
 * byte for byte, and whose output its reader must decode.
 */
final class GeneratedWireReference {
    private GeneratedWireReference() {
    }

    /** The compact form of {@code cid} relative to {@code context}; null when they are equal. */
    static Wire.Cid cid(Cid cid, Cid context) {
        if (context != null && cid.equals(context)) {
            return null;
        }
        Wire.Cid.Builder b = Wire.Cid.newBuilder().setHlc(cid.hlc());
        if (context == null || !cid.origin().equals(context.origin())) {
            b.setOrigin(WireCodec.originBytes(cid.origin()));
        }
        return b.build();
    }

    /** A CID that is always present on the wire, even when it equals the context (an empty message then). */
    static Wire.Cid presentCid(Cid cid, Cid context) {
        Wire.Cid c = cid(cid, context);
        return c == null ? Wire.Cid.getDefaultInstance() : c;
    }

    static Wire.AttributeState attribute(String name, AttributeState state, Cid context) {
        Wire.AttributeState.Builder b = Wire.AttributeState.newBuilder().setName(name);
        if (state instanceof Register r) {
            Wire.Cid c = cid(r.cid(), context);
            if (c != null) {
                b.setCid(c);
            }
            b.addAllValues(r.values());
        } else {
            b.setIsSet(true);
            for (Map.Entry<ByteString, ValueMarks> e : ((ValueSet) state).values().entrySet()) {
                Wire.SetValue.Builder v = Wire.SetValue.newBuilder().setValue(e.getKey());
                Wire.Cid added = cid(e.getValue().added(), context);
                if (added != null) {
                    v.setAdded(added);
                }
                if (e.getValue().removed() != null) {
                    v.setRemoved(presentCid(e.getValue().removed(), context));
                }
                b.addSetValues(v);
            }
        }
        return b.build();
    }

    /**
     * @param createdContext context for the created CID (null: written in full)
     * @param attributeContext context for attribute CIDs (null: the version's created CID)
     */
    static Wire.Version version(Version v, Cid createdContext, Cid attributeContext) {
        Wire.Version.Builder b = Wire.Version.newBuilder();
        Wire.Cid created = cid(v.created(), createdContext);
        if (created != null) {
            b.setCreated(created);
        }
        if (v.isDiscarded()) {
            b.setDiscarded(presentCid(v.discarded(), attributeContext == null ? v.created() : attributeContext));
        }
        Cid ctx = attributeContext == null ? v.created() : attributeContext;
        for (Map.Entry<String, AttributeState> e : v.attributes().entrySet()) {
            b.addAttributes(attribute(e.getKey(), e.getValue(), ctx));
        }
        return b.build();
    }

    static byte[] state(EntryState state) {
        Wire.EntryState.Builder b = Wire.EntryState.newBuilder();
        if (state instanceof EntryState.Tombstone t) {
            b.setTombstone(presentCid(t.deleted(), null));
        } else {
            for (Version v : ((EntryState.Live) state).versions().values()) {
                b.addVersions(version(v, null, null));
            }
        }
        return b.build().toByteArray();
    }

    /**
     * The stored form of a single-version state from the version's wire form in a change record,
     * whose attribute CIDs are relative to the record's CID, which is this version's created CID.
     */
    static byte[] state(Wire.Version recordVersion, Cid created) {
        return Wire.EntryState.newBuilder().addVersions(recordVersion.toBuilder().setCreated(presentCid(created, null))).build().toByteArray();
    }

    static Wire.ChangeRecord change(Change c) {
        Wire.ChangeRecord.Builder b = Wire.ChangeRecord.newBuilder()
                .setHlc(c.cid().hlc()).setOrigin(WireCodec.originBytes(c.cid().origin())).setPrevHlc(c.prevHlc());
        for (Namespace ns : c.namespaces()) {
            b.addNamespaces(WireCodec.namespace(ns, c.cid()));
        }
        for (Change.EntryDelta d : c.entries()) {
            Wire.EntryChange.Builder e = Wire.EntryChange.newBuilder().setNamespace(d.namespace()).setId(Ids.byteString(d.id()));
            if (d.delta() instanceof EntryState.Tombstone t) {
                e.setDeleted(presentCid(t.deleted(), c.cid()));
            } else {
                EntryState.Live live = (EntryState.Live) d.delta();
                if (live.versions().size() != 1) {
                    throw new IllegalStateException("a change touches one version of an entry, got " + live.versions().size());
                }
                e.setVersion(version(live.versions().values().iterator().next(), c.cid(), c.cid()));
            }
            b.addEntries(e);
        }
        return b.build();
    }

    /** A feed record as the generated builders write it. */
    static byte[] feedRecord(Cid cid, boolean local, long millis, java.util.List<FeedEvent.Change> changes) {
        StoreRecords.FeedRecord.Builder b = StoreRecords.FeedRecord.newBuilder().setLocal(local).setCommitMillis(millis);
        if (cid != null) {
            b.setHlc(cid.hlc()).setOrigin(WireCodec.originBytes(cid.origin()));
        } else {
            b.setReset(true);
        }
        for (FeedEvent.Change c : changes) {
            StoreRecords.FeedTouch.Builder t = StoreRecords.FeedTouch.newBuilder().setNamespace(c.namespace())
                    .setKind(StoreRecords.FeedTouch.Kind.forNumber(c.kind().ordinal() + 1));
            if (c.id() != null) {
                t.setId(Ids.byteString(c.id()));
            }
            b.addTouches(t);
        }
        return b.build().toByteArray();
    }
}
