package dev.entente.engine;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.entente.engine.merge.AttributeState;
import dev.entente.engine.merge.EntryState;
import dev.entente.engine.merge.Register;
import dev.entente.engine.merge.ValueMarks;
import dev.entente.engine.merge.ValueSet;
import dev.entente.engine.merge.Values;
import dev.entente.engine.merge.Version;
import dev.entente.protocol.Wire;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Translates between the engine's model and the protobuf wire forms of {@code changelog.proto}.
 * CIDs equal to the context CID are left out (see the proto), which keeps a typical record small.
 */
final class WireCodec {
    private WireCodec() {
    }

    // ---- CIDs and ids

    static ByteString originBytes(OriginId origin) {
        return ByteString.copyFrom(origin.toBytes());
    }

    static OriginId origin(ByteString bytes) {
        if (bytes.size() != OriginId.BYTES) {
            throw new MalformedChangeException("an origin id has 16 bytes, got " + bytes.size());
        }
        return OriginId.fromBytes(bytes.toByteArray());
    }

    /** The compact form of {@code cid} relative to {@code context}; null when they are equal. */
    static Wire.Cid cid(Cid cid, Cid context) {
        if (context != null && cid.equals(context)) {
            return null;
        }
        Wire.Cid.Builder b = Wire.Cid.newBuilder().setHlc(cid.hlc());
        if (context == null || !cid.origin().equals(context.origin())) {
            b.setOrigin(originBytes(cid.origin()));
        }
        return b.build();
    }

    /** A CID that is always present on the wire, even when it equals the context (an empty message then). */
    static Wire.Cid presentCid(Cid cid, Cid context) {
        Wire.Cid c = cid(cid, context);
        return c == null ? Wire.Cid.getDefaultInstance() : c;
    }

    static Cid cid(Wire.Cid m, Cid context) {
        if (m.getHlc() == 0) {
            if (context == null) {
                throw new MalformedChangeException("a CID without hlc where no context CID applies");
            }
            return context;
        }
        OriginId origin;
        if (m.getOrigin().isEmpty()) {
            if (context == null) {
                throw new MalformedChangeException("a CID without origin where no context CID applies");
            }
            origin = context.origin();
        } else {
            origin = origin(m.getOrigin());
        }
        return new Cid(m.getHlc(), origin);
    }

    static ByteString idBytes(UUID id) {
        return ByteString.copyFrom(Keys.uuidBytes(id));
    }

    // ---- attributes, versions, entry states

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

    static AttributeState attribute(Wire.AttributeState m, Cid context) {
        if (!m.getIsSet()) {
            Cid c = m.hasCid() ? cid(m.getCid(), context) : context;
            return new Register(c, m.getValuesList());
        }
        TreeMap<ByteString, ValueMarks> values = new TreeMap<>(Values.ORDER);
        for (Wire.SetValue v : m.getSetValuesList()) {
            Cid added = v.hasAdded() ? cid(v.getAdded(), context) : context;
            Cid removed = v.hasRemoved() ? cid(v.getRemoved(), context) : null;
            values.put(v.getValue(), new ValueMarks(added, removed));
        }
        return new ValueSet(values);
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

    static Version version(Wire.Version m, Cid createdContext, Cid attributeContext) {
        Cid created = m.hasCreated() ? cid(m.getCreated(), createdContext) : createdContext;
        if (created == null) {
            throw new MalformedChangeException("a stored version without its created CID");
        }
        Cid ctx = attributeContext == null ? created : attributeContext;
        if (m.hasDiscarded()) {
            return Version.discarded(created, cid(m.getDiscarded(), ctx));
        }
        TreeMap<String, AttributeState> attributes = new TreeMap<>();
        for (Wire.AttributeState a : m.getAttributesList()) {
            if (attributes.put(Names.checkAttribute(a.getName()), attribute(a, ctx)) != null) {
                throw new MalformedChangeException("attribute '" + a.getName() + "' appears twice in one version");
            }
        }
        return new Version(created, attributes, null);
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

    static EntryState state(byte[] bytes) {
        try {
            Wire.EntryState m = Wire.EntryState.parseFrom(bytes);
            if (m.hasTombstone()) {
                return new EntryState.Tombstone(cid(m.getTombstone(), null));
            }
            TreeMap<Cid, Version> versions = new TreeMap<>();
            for (Wire.Version v : m.getVersionsList()) {
                Version version = version(v, null, null);
                versions.put(version.created(), version);
            }
            return new EntryState.Live(versions);
        } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
            throw new MalformedChangeException("stored entry state is corrupt: " + e.getMessage(), e);
        }
    }

    // ---- namespaces and schemas

    static Wire.Schema schema(Schema s) {
        return Wire.Schema.newBuilder().addAllUniqueAttributes(s.uniqueAttributes())
                .addAllSetAttributes(s.setAttributes()).setMergeConcurrentCreates(s.mergeConcurrentCreates()).build();
    }

    static Schema schema(Wire.Schema m) {
        return new Schema(m.getUniqueAttributesList(), m.getSetAttributesList(), m.getMergeConcurrentCreates());
    }

    static Wire.NamespaceState namespace(Namespace ns, Cid context) {
        Wire.NamespaceState.Builder b = Wire.NamespaceState.newBuilder().setName(ns.name()).setSchema(schema(ns.schema()));
        Wire.Cid c = cid(ns.cid(), context);
        if (c != null) {
            b.setCid(c);
        }
        return b.build();
    }

    static Namespace namespace(Wire.NamespaceState m, Cid context) {
        Cid c = m.hasCid() ? cid(m.getCid(), context) : context;
        if (c == null) {
            throw new MalformedChangeException("namespace '" + m.getName() + "' without a CID");
        }
        return new Namespace(Names.checkNamespace(m.getName()), schema(m.getSchema()), c);
    }

    // ---- change records

    static Wire.ChangeRecord change(Change c) {
        Wire.ChangeRecord.Builder b = Wire.ChangeRecord.newBuilder()
                .setHlc(c.cid().hlc()).setOrigin(originBytes(c.cid().origin())).setPrevHlc(c.prevHlc());
        for (Namespace ns : c.namespaces()) {
            b.addNamespaces(namespace(ns, c.cid()));
        }
        for (Change.EntryDelta d : c.entries()) {
            Wire.EntryChange.Builder e = Wire.EntryChange.newBuilder().setNamespace(d.namespace()).setId(idBytes(d.id()));
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

    /** Decodes a record; {@code source} names where it came from, for the error message. */
    static Change change(ByteString bytes, String source) {
        return change(parse(bytes, source), source);
    }

    static Wire.ChangeRecord parse(ByteString bytes, String source) {
        try {
            return Wire.ChangeRecord.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new MalformedChangeException("change record from " + source + " cannot be decoded: " + e.getMessage(), e);
        }
    }

    static Change change(Wire.ChangeRecord m, String source) {
        try {
            if (m.getHlc() <= 0) {
                throw new MalformedChangeException("hlc is " + m.getHlc());
            }
            Cid cid = new Cid(m.getHlc(), origin(m.getOrigin()));
            if (m.getPrevHlc() >= m.getHlc()) {
                throw new MalformedChangeException("previous hlc " + m.getPrevHlc() + " is not below hlc " + m.getHlc());
            }
            List<Namespace> namespaces = new ArrayList<>(m.getNamespacesCount());
            for (Wire.NamespaceState ns : m.getNamespacesList()) {
                namespaces.add(namespace(ns, cid));
            }
            List<Change.EntryDelta> entries = new ArrayList<>(m.getEntriesCount());
            for (Wire.EntryChange e : m.getEntriesList()) {
                String ns = Names.checkNamespace(e.getNamespace());
                UUID id = Keys.uuid(e.getId().toByteArray());
                EntryState delta;
                if (e.hasDeleted()) {
                    delta = new EntryState.Tombstone(cid(e.getDeleted(), cid));
                } else if (e.hasVersion()) {
                    delta = EntryState.Live.of(version(e.getVersion(), cid, cid));
                } else {
                    throw new MalformedChangeException("entry change for " + id + " has neither a version nor a deletion");
                }
                entries.add(new Change.EntryDelta(ns, id, delta));
            }
            Change change = new Change(cid, m.getPrevHlc(), namespaces, entries);
            checkNoFutureCids(change);
            return change;
        } catch (MalformedChangeException e) {
            throw new MalformedChangeException("change record " + m.getHlc() + " from " + source + " is malformed: " + e.getMessage(), e);
        } catch (EntenteException | IllegalArgumentException e) {
            throw new MalformedChangeException("change record " + m.getHlc() + " from " + source + " is malformed: " + e.getMessage(), e);
        }
    }

    /**
     * Every CID inside a change was made at or before the change itself; a later one would win
     * every future merge and slip past the clock-skew check, which only sees the record's CID.
     */
    private static void checkNoFutureCids(Change c) {
        for (Namespace ns : c.namespaces()) {
            notAfter(ns.cid(), c.cid(), "namespace '" + ns.name() + "'");
        }
        for (Change.EntryDelta d : c.entries()) {
            String what = "entry " + d.id();
            if (d.delta() instanceof EntryState.Tombstone t) {
                notAfter(t.deleted(), c.cid(), what);
                continue;
            }
            for (Version v : ((EntryState.Live) d.delta()).versions().values()) {
                notAfter(v.created(), c.cid(), what);
                if (v.isDiscarded()) {
                    notAfter(v.discarded(), c.cid(), what);
                }
                for (AttributeState a : v.attributes().values()) {
                    if (a instanceof Register r) {
                        notAfter(r.cid(), c.cid(), what);
                    } else {
                        for (ValueMarks marks : ((ValueSet) a).values().values()) {
                            notAfter(marks.added(), c.cid(), what);
                            if (marks.removed() != null) {
                                notAfter(marks.removed(), c.cid(), what);
                            }
                        }
                    }
                }
            }
        }
    }

    private static void notAfter(Cid inner, Cid record, String what) {
        if (inner.compareTo(record) > 0) {
            throw new MalformedChangeException(what + " carries CID " + inner + ", later than its own change " + record);
        }
    }

    // ---- RUV and flags

    static Wire.Ruv ruv(Ruv ruv) {
        Wire.Ruv.Builder b = Wire.Ruv.newBuilder();
        ruv.origins().forEach((o, r) -> b.addEntries(Wire.RuvEntry.newBuilder()
                .setOrigin(originBytes(o)).setMax(r.max()).setTrimmed(r.trimmed())));
        return b.build();
    }

    static Ruv ruv(Wire.Ruv m) {
        TreeMap<OriginId, Ruv.Range> origins = new TreeMap<>();
        for (Wire.RuvEntry e : m.getEntriesList()) {
            try {
                origins.put(origin(e.getOrigin()), new Ruv.Range(e.getMax(), e.getTrimmed()));
            } catch (IllegalArgumentException ex) {
                throw new MalformedChangeException("RUV entry is malformed: " + ex.getMessage(), ex);
            }
        }
        return new Ruv(origins);
    }

    static byte[] flags(ConflictFlags f) {
        Wire.ConflictFlags.Builder b = Wire.ConflictFlags.newBuilder().setEntryConflict(f.entryConflict());
        for (ConflictedEntry.UniqueClash c : f.unique()) {
            b.addUnique(Wire.UniqueClash.newBuilder().setAttribute(c.attribute()).setValue(c.value()));
        }
        if (f.invalid() != null) {
            b.setInvalid(f.invalid());
        }
        return b.build().toByteArray();
    }

    static ConflictFlags flags(byte[] bytes) {
        try {
            Wire.ConflictFlags m = Wire.ConflictFlags.parseFrom(bytes);
            TreeSet<ConflictedEntry.UniqueClash> unique = new TreeSet<>(ConflictFlags.ORDER);
            for (Wire.UniqueClash c : m.getUniqueList()) {
                unique.add(new ConflictedEntry.UniqueClash(c.getAttribute(), c.getValue()));
            }
            return new ConflictFlags(m.getEntryConflict(), unique, m.getInvalid().isEmpty() ? null : m.getInvalid());
        } catch (InvalidProtocolBufferException e) {
            throw new MalformedChangeException("stored conflict flags are corrupt: " + e.getMessage(), e);
        }
    }
}
