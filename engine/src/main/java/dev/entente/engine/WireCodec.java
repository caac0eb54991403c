package dev.entente.engine;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.entente.engine.clock.Cid;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.error.EntenteException;
import dev.entente.engine.merge.AttributeState;
import dev.entente.engine.merge.EntryState;
import dev.entente.engine.merge.Register;
import dev.entente.engine.merge.SortedArrayMap;
import dev.entente.engine.merge.ValueMarks;
import dev.entente.engine.merge.ValueSet;
import dev.entente.engine.merge.Values;
import dev.entente.engine.merge.Version;
import dev.entente.protocol.Wire;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

    // ---- attributes, versions, entry states: written and read directly (WireWriter, WireReader)

    // Field numbers of changelog.proto, from the generated classes so that the two cannot differ.
    private static final int CID_HLC = Wire.Cid.HLC_FIELD_NUMBER;
    private static final int CID_ORIGIN = Wire.Cid.ORIGIN_FIELD_NUMBER;
    private static final int ATTRIBUTE_NAME = Wire.AttributeState.NAME_FIELD_NUMBER;
    private static final int ATTRIBUTE_IS_SET = Wire.AttributeState.IS_SET_FIELD_NUMBER;
    private static final int ATTRIBUTE_CID = Wire.AttributeState.CID_FIELD_NUMBER;
    private static final int ATTRIBUTE_VALUES = Wire.AttributeState.VALUES_FIELD_NUMBER;
    private static final int ATTRIBUTE_SET_VALUES = Wire.AttributeState.SET_VALUES_FIELD_NUMBER;
    private static final int SET_VALUE_VALUE = Wire.SetValue.VALUE_FIELD_NUMBER;
    private static final int SET_VALUE_ADDED = Wire.SetValue.ADDED_FIELD_NUMBER;
    private static final int SET_VALUE_REMOVED = Wire.SetValue.REMOVED_FIELD_NUMBER;
    private static final int VERSION_CREATED = Wire.Version.CREATED_FIELD_NUMBER;
    private static final int VERSION_ATTRIBUTES = Wire.Version.ATTRIBUTES_FIELD_NUMBER;
    private static final int VERSION_DISCARDED = Wire.Version.DISCARDED_FIELD_NUMBER;
    private static final int ENTRY_NAMESPACE = Wire.EntryChange.NAMESPACE_FIELD_NUMBER;
    private static final int ENTRY_ID = Wire.EntryChange.ID_FIELD_NUMBER;
    private static final int ENTRY_VERSION = Wire.EntryChange.VERSION_FIELD_NUMBER;
    private static final int ENTRY_DELETED = Wire.EntryChange.DELETED_FIELD_NUMBER;
    private static final int RECORD_HLC = Wire.ChangeRecord.HLC_FIELD_NUMBER;
    private static final int RECORD_ORIGIN = Wire.ChangeRecord.ORIGIN_FIELD_NUMBER;
    private static final int RECORD_PREV_HLC = Wire.ChangeRecord.PREV_HLC_FIELD_NUMBER;
    private static final int RECORD_NAMESPACES = Wire.ChangeRecord.NAMESPACES_FIELD_NUMBER;
    private static final int RECORD_ENTRIES = Wire.ChangeRecord.ENTRIES_FIELD_NUMBER;
    private static final int STATE_VERSIONS = Wire.EntryState.VERSIONS_FIELD_NUMBER;
    private static final int STATE_TOMBSTONE = Wire.EntryState.TOMBSTONE_FIELD_NUMBER;

    private static int tag(int field, int wireType) {
        return field << 3 | wireType;
    }

    private static final int LD = WireWriter.LENGTH_DELIMITED;

    /** Writes {@code cid} relative to {@code context}; nothing when they are equal. */
    private static void cid(WireWriter w, int field, Cid cid, Cid context) {
        if (context != null && cid.equals(context)) {
            return;
        }
        int start = w.beginMessage(field);
        w.fixed64(CID_HLC, cid.hlc());
        if (context == null || !cid.origin().equals(context.origin())) {
            w.bytes16(CID_ORIGIN, cid.origin().hi(), cid.origin().lo());
        }
        w.endMessage(start);
    }

    /** Writes {@code cid}, as an empty message when it equals the context: its presence carries meaning. */
    private static void presentCid(WireWriter w, int field, Cid cid, Cid context) {
        if (context != null && cid.equals(context)) {
            w.endMessage(w.beginMessage(field));
        } else {
            cid(w, field, cid, context);
        }
    }

    private static void attribute(WireWriter w, String name, AttributeState state, Cid context) {
        int start = w.beginMessage(VERSION_ATTRIBUTES);
        w.string(ATTRIBUTE_NAME, name);
        if (state instanceof Register r) {
            cid(w, ATTRIBUTE_CID, r.cid(), context);
            for (ByteString v : r.values()) {
                w.repeatedBytes(ATTRIBUTE_VALUES, v);
            }
        } else {
            w.bool(ATTRIBUTE_IS_SET, true);
            for (Map.Entry<ByteString, ValueMarks> e : ((ValueSet) state).values().entrySet()) {
                int s = w.beginMessage(ATTRIBUTE_SET_VALUES);
                w.bytes(SET_VALUE_VALUE, e.getKey());
                cid(w, SET_VALUE_ADDED, e.getValue().added(), context);
                if (e.getValue().removed() != null) {
                    presentCid(w, SET_VALUE_REMOVED, e.getValue().removed(), context);
                }
                w.endMessage(s);
            }
        }
        w.endMessage(start);
    }

    /**
     * Writes the fields of a version.
     *
     * @param createdContext context for the created CID (null: written in full)
     * @param attributeContext context for attribute CIDs (null: the version's created CID)
     */
    private static void version(WireWriter w, Version v, Cid createdContext, Cid attributeContext) {
        cid(w, VERSION_CREATED, v.created(), createdContext);
        Cid ctx = attributeContext == null ? v.created() : attributeContext;
        for (Map.Entry<String, AttributeState> e : v.attributes().entrySet()) {
            attribute(w, e.getKey(), e.getValue(), ctx);
        }
        if (v.isDiscarded()) {
            presentCid(w, VERSION_DISCARDED, v.discarded(), ctx);
        }
    }

    /** Reads a CID relative to {@code context}: a missing hlc or origin is the context's. */
    private static Cid cid(WireReader r, Cid context) {
        long hlc = 0;
        OriginId origin = null;
        for (int tag; (tag = r.tag()) != 0; ) {
            if (tag == tag(CID_HLC, WireWriter.FIXED64)) {
                hlc = r.fixed64();
            } else if (tag == tag(CID_ORIGIN, LD)) {
                origin = r.sixteenBytes("an origin id") ? new OriginId(r.fieldLong(0), r.fieldLong(1)) : null;
            } else {
                r.skip(tag);
            }
        }
        if (hlc == 0) {
            if (context == null) {
                throw new MalformedChangeException("a CID without hlc where no context CID applies");
            }
            return context;
        }
        if (origin == null) {
            if (context == null) {
                throw new MalformedChangeException("a CID without origin where no context CID applies");
            }
            origin = context.origin();
        }
        Cid read = new Cid(hlc, origin);
        r.noteCid(read);
        return read;
    }

    /** Reads the CID in the message field just reached. */
    private static Cid cidField(WireReader r, Cid context) {
        long outer = r.enter();
        Cid c = cid(r, context);
        r.leave(outer);
        return c;
    }

    /** Reads the CID in a message field passed over earlier, at {@code start} for {@code length} bytes. */
    private static Cid cidAt(WireReader r, int start, int length, Cid context) {
        long outer = r.enterAt(start, length);
        Cid c = cid(r, context);
        r.leave(outer);
        return c;
    }

    /** Reads an attribute message, already entered, into {@code into}. */
    private static void attribute(WireReader r, Cid context, SortedArrayMap.Builder<String, AttributeState> into) {
        String name = "";
        boolean isSet = false;
        Cid cid = context;
        List<ByteString> values = null;
        SortedArrayMap.Builder<ByteString, ValueMarks> marks = null;
        for (int tag; (tag = r.tag()) != 0; ) {
            if (tag == tag(ATTRIBUTE_NAME, LD)) {
                name = r.name();
            } else if (tag == tag(ATTRIBUTE_IS_SET, WireWriter.VARINT)) {
                isSet = r.varint() != 0;
            } else if (tag == tag(ATTRIBUTE_CID, LD)) {
                cid = cidField(r, context);
            } else if (tag == tag(ATTRIBUTE_VALUES, LD)) {
                if (values == null) {
                    values = new ArrayList<>(2);
                }
                values.add(r.bytes());
            } else if (tag == tag(ATTRIBUTE_SET_VALUES, LD)) {
                if (marks == null) {
                    marks = SortedArrayMap.builder(Values.ORDER, 4);
                }
                setValue(r, context, marks);
            } else {
                r.skip(tag);
            }
        }
        AttributeState state;
        if (isSet) {
            state = new ValueSet(marks == null ? SortedArrayMap.empty(Values.ORDER) : marks.build());
        } else {
            state = new Register(cid, values == null ? List.of() : values);
        }
        into.add(Names.checkAttribute(name), state);
    }

    private static void setValue(WireReader r, Cid context, SortedArrayMap.Builder<ByteString, ValueMarks> into) {
        long outer = r.enter();
        ByteString value = ByteString.EMPTY;
        Cid added = context;
        Cid removed = null;
        for (int tag; (tag = r.tag()) != 0; ) {
            if (tag == tag(SET_VALUE_VALUE, LD)) {
                value = r.bytes();
            } else if (tag == tag(SET_VALUE_ADDED, LD)) {
                added = cidField(r, context);
            } else if (tag == tag(SET_VALUE_REMOVED, LD)) {
                removed = cidField(r, context);
            } else {
                r.skip(tag);
            }
        }
        r.leave(outer);
        into.add(value, new ValueMarks(added, removed));
    }

    /**
     * Reads the version message field just reached. Its created CID is read before its attributes,
     * wherever it stands, because it is their context.
     *
     * @param createdContext context for the created CID (null: it must be written in full)
     * @param attributeContext context for attribute CIDs (null: the version's created CID)
     * @param plain when not null, receives in element 0 whether the version was written without
     *     created and discarded CIDs: in a record, a version that record itself created
     */
    private static Version version(WireReader r, Cid createdContext, Cid attributeContext, boolean[] plain) {
        r.lengthDelimited();
        return versionAt(r, r.start(), r.length(), createdContext, attributeContext, plain);
    }

    /** Reads a version message passed over earlier, at {@code start} for {@code length} bytes; see {@link #version}. */
    private static Version versionAt(WireReader r, int start, int length, Cid createdContext, Cid attributeContext, boolean[] plain) {
        long outer = r.enterAt(start, length);
        int createdStart = -1;
        int createdLength = 0;
        int discardedStart = -1;
        int discardedLength = 0;
        // Attribute fields are read once the created CID, their context, is known.
        WireReader.Fields attributes = new WireReader.Fields(8);
        for (int tag; (tag = r.tag()) != 0; ) {
            if (tag == tag(VERSION_CREATED, LD)) {
                r.lengthDelimited();
                createdStart = r.start();
                createdLength = r.length();
            } else if (tag == tag(VERSION_ATTRIBUTES, LD)) {
                attributes.add(r);
            } else if (tag == tag(VERSION_DISCARDED, LD)) {
                r.lengthDelimited();
                discardedStart = r.start();
                discardedLength = r.length();
            } else {
                r.skip(tag);
            }
        }
        if (plain != null) {
            plain[0] = createdStart < 0 && discardedStart < 0;
        }
        Cid created = createdStart >= 0 ? cidAt(r, createdStart, createdLength, createdContext) : createdContext;
        if (created == null) {
            throw new MalformedChangeException("a stored version without its created CID");
        }
        Cid ctx = attributeContext == null ? created : attributeContext;
        if (discardedStart >= 0) {
            Cid discarded = cidAt(r, discardedStart, discardedLength, ctx);
            r.leave(outer);
            return Version.discarded(created, discarded);
        }
        SortedArrayMap.Builder<String, AttributeState> map = SortedArrayMap.builder(null, attributes.count());
        for (int i = 0; i < attributes.count(); i++) {
            long inVersion = attributes.enter(r, i);
            attribute(r, ctx, map);
            r.leave(inVersion);
        }
        r.leave(outer);
        SortedArrayMap<String, AttributeState> built = map.build();
        if (map.duplicate() != null) {
            throw new MalformedChangeException("attribute '" + map.duplicate() + "' appears twice in one version");
        }
        return new Version(created, built, null);
    }

    /** The stored form of an entry state. */
    static byte[] state(EntryState state) {
        WireWriter w = new WireWriter(384);
        if (state instanceof EntryState.Tombstone t) {
            presentCid(w, STATE_TOMBSTONE, t.deleted(), null);
        } else {
            for (Version v : ((EntryState.Live) state).versions().values()) {
                int start = w.beginMessage(STATE_VERSIONS);
                version(w, v, null, null);
                w.endMessage(start);
            }
        }
        return w.toByteArray();
    }

    /**
     * The stored form of an entry whose state is the single version a change record created: that
     * version's encoding in the record (from {@code start} to {@code end}), whose attribute CIDs are
     * relative to the record's CID, which is the version's created CID, preceded by that CID.
     */
    static byte[] storedState(byte[] record, int start, int end, Cid created) {
        // Sized exactly (a full CID: hlc 1 + 8, origin 1 + 1 + 16, in a field of 1 + 1), so that the
        // writer's array is the result, not copied: this runs for every created entry.
        int content = 29 + (end - start);
        WireWriter w = new WireWriter(1 + WireWriter.varintSize(content) + content);
        int s = w.beginMessage(STATE_VERSIONS);
        presentCid(w, VERSION_CREATED, created, null);
        w.append(record, start, end - start);
        w.endMessage(s);
        return w.toByteArray();
    }

    static EntryState state(byte[] bytes) {
        try {
            WireReader r = new WireReader(bytes);
            int tombstoneStart = -1;
            int tombstoneLength = 0;
            SortedArrayMap.Builder<Cid, Version> versions = SortedArrayMap.builder(null, 1);
            for (int tag; (tag = r.tag()) != 0; ) {
                if (tag == tag(STATE_VERSIONS, LD)) {
                    Version version = version(r, null, null, null);
                    versions.add(version.created(), version);
                } else if (tag == tag(STATE_TOMBSTONE, LD)) {
                    r.lengthDelimited();
                    tombstoneStart = r.start();
                    tombstoneLength = r.length();
                } else {
                    r.skip(tag);
                }
            }
            if (tombstoneStart >= 0) {
                return new EntryState.Tombstone(cidAt(r, tombstoneStart, tombstoneLength, null));
            }
            return new EntryState.Live(versions.build());
        } catch (EntenteException | IllegalArgumentException e) {
            // EntenteException: also a name check refusing a corrupt attribute name.
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

    /** Encodes a change as its changelog record, noting where each version it creates lies. */
    static ChangeBytes encode(Change c) {
        return encode(c, new WireWriter(128 + 384 * c.entries().size()));
    }

    /**
     * Encodes a change into {@code w}, which may hold an earlier record: a commit reuses one writer,
     * so that a record of many entries is not written into a new array that is then copied.
     */
    static ChangeBytes encode(Change c, WireWriter w) {
        w.reset(SCRATCH_BYTES);
        w.fixed64(RECORD_HLC, c.cid().hlc());
        w.bytes16(RECORD_ORIGIN, c.cid().origin().hi(), c.cid().origin().lo());
        w.fixed64(RECORD_PREV_HLC, c.prevHlc());
        for (Namespace ns : c.namespaces()) {
            w.message(RECORD_NAMESPACES, namespace(ns, c.cid()).toByteArray());
        }
        int[] marks = new int[2 * c.entries().size()];
        for (int i = 0; i < c.entries().size(); i++) {
            Change.EntryDelta d = c.entries().get(i);
            int start = w.beginMessage(RECORD_ENTRIES);
            w.string(ENTRY_NAMESPACE, d.namespace());
            w.bytes16(ENTRY_ID, d.id().getMostSignificantBits(), d.id().getLeastSignificantBits());
            marks[2 * i] = -1;
            if (d.delta() instanceof EntryState.Tombstone t) {
                presentCid(w, ENTRY_DELETED, t.deleted(), c.cid());
            } else {
                EntryState.Live live = (EntryState.Live) d.delta();
                if (live.versions().size() != 1) {
                    throw new IllegalStateException("a change touches one version of an entry, got " + live.versions().size());
                }
                Version v = live.versions().values().iterator().next();
                int vs = w.beginMessage(ENTRY_VERSION);
                if (v.created().equals(c.cid()) && !v.isDiscarded()) {
                    marks[2 * i] = w.mark();
                    version(w, v, c.cid(), c.cid());
                    marks[2 * i + 1] = w.mark();
                } else {
                    version(w, v, c.cid(), c.cid());
                }
                w.endMessage(vs);
            }
            w.endMessage(start);
        }
        int[] versions = new int[marks.length];
        for (int i = 0; i < marks.length; i += 2) {
            versions[i] = marks[i] < 0 ? -1 : w.markAt(marks[i]);
            versions[i + 1] = marks[i] < 0 ? -1 : w.markAt(marks[i + 1]);
        }
        return new ChangeBytes(c, w.copyOut(), versions);
    }

    /** What a reused record writer keeps between commits (larger records get an array of their own). */
    static final int SCRATCH_BYTES = 1 << 20;

    /** Decodes a record; {@code source} names where it came from, for the error message. */
    static ChangeBytes decode(byte[] bytes, String source) {
        long hlc = 0;
        long prevHlc = 0;
        OriginId origin = null;
        // Namespace and entry fields are read once the record's CID, their context, is known.
        WireReader.Fields namespaceFields = new WireReader.Fields(1);
        WireReader.Fields entryFields = new WireReader.Fields(64);
        WireReader r = new WireReader(bytes);
        try {
            for (int tag; (tag = r.tag()) != 0; ) {
                if (tag == tag(RECORD_HLC, WireWriter.FIXED64)) {
                    hlc = r.fixed64();
                } else if (tag == tag(RECORD_ORIGIN, LD)) {
                    origin = r.sixteenBytes("an origin id") ? new OriginId(r.fieldLong(0), r.fieldLong(1)) : null;
                } else if (tag == tag(RECORD_PREV_HLC, WireWriter.FIXED64)) {
                    prevHlc = r.fixed64();
                } else if (tag == tag(RECORD_NAMESPACES, LD)) {
                    namespaceFields.add(r);
                } else if (tag == tag(RECORD_ENTRIES, LD)) {
                    entryFields.add(r);
                } else {
                    r.skip(tag);
                }
            }
        } catch (MalformedChangeException e) {
            throw new MalformedChangeException("change record from " + source + " cannot be decoded: " + e.getMessage(), e);
        }
        try {
            if (hlc <= 0) {
                throw new MalformedChangeException("hlc is " + hlc);
            }
            if (origin == null) {
                throw new MalformedChangeException("an origin id has 16 bytes, got 0");
            }
            Cid cid = new Cid(hlc, origin);
            if (prevHlc >= hlc) {
                throw new MalformedChangeException("previous hlc " + prevHlc + " is not below hlc " + hlc);
            }
            List<Namespace> namespaces = new ArrayList<>(namespaceFields.count());
            for (int i = 0; i < namespaceFields.count(); i++) {
                long inRecord = namespaceFields.enter(r, i);
                Namespace ns = namespace(r.parse(Wire.NamespaceState.parser()), cid);
                r.noteCid(ns.cid());
                namespaces.add(ns);
                r.leave(inRecord);
            }
            int entryCount = entryFields.count();
            List<Change.EntryDelta> entries = new ArrayList<>(entryCount);
            int[] versions = new int[2 * entryCount];
            boolean[] plain = new boolean[1];
            for (int i = 0; i < entryCount; i++) {
                long inRecord = entryFields.enter(r, i);
                String ns = "";
                UUID id = null;
                int deletedStart = -1;
                int deletedLength = 0;
                int versionStart = -1;
                int versionLength = 0;
                for (int tag; (tag = r.tag()) != 0; ) {
                    if (tag == tag(ENTRY_NAMESPACE, LD)) {
                        ns = r.name();
                    } else if (tag == tag(ENTRY_ID, LD)) {
                        id = r.sixteenBytes("an entry id") ? new UUID(r.fieldLong(0), r.fieldLong(1)) : null;
                    } else if (tag == tag(ENTRY_VERSION, LD)) {
                        r.lengthDelimited();
                        versionStart = r.start();
                        versionLength = r.length();
                    } else if (tag == tag(ENTRY_DELETED, LD)) {
                        r.lengthDelimited();
                        deletedStart = r.start();
                        deletedLength = r.length();
                    } else {
                        r.skip(tag);
                    }
                }
                Names.checkNamespace(ns);
                if (id == null) {
                    throw new MalformedChangeException("an entry id has 16 bytes, got 0");
                }
                EntryState delta;
                versions[2 * i] = -1;
                versions[2 * i + 1] = -1;
                if (deletedStart >= 0) {
                    delta = new EntryState.Tombstone(cidAt(r, deletedStart, deletedLength, cid));
                } else if (versionStart >= 0) {
                    delta = EntryState.Live.of(versionAt(r, versionStart, versionLength, cid, cid, plain));
                    if (plain[0]) {
                        versions[2 * i] = versionStart;
                        versions[2 * i + 1] = versionStart + versionLength;
                    }
                } else {
                    throw new MalformedChangeException("entry change for " + id + " has neither a version nor a deletion");
                }
                r.leave(inRecord);
                entries.add(new Change.EntryDelta(ns, id, delta));
            }
            Change change = new Change(cid, prevHlc, namespaces, entries);
            // Every CID not noted in the reader is the record's own (the decoding context): only
            // when a noted one is later is the change walked again, to name the culprit.
            Cid latest = r.latestCid();
            if (latest != null && latest.compareTo(cid) > 0) {
                checkNoFutureCids(change);
            }
            return new ChangeBytes(change, bytes, versions);
        } catch (EntenteException | IllegalArgumentException e) {
            throw new MalformedChangeException("change record " + hlc + " from " + source + " is malformed: " + e.getMessage(), e);
        }
    }

    /**
     * Every CID inside a change was made at or before the change itself; a later one would win
     * every future merge and slip past the clock-skew check, which only sees the record's CID.
     */
    private static void checkNoFutureCids(Change c) {
        for (Namespace ns : c.namespaces()) {
            notAfter(ns.cid(), c.cid(), "namespace", ns.name());
        }
        for (Change.EntryDelta d : c.entries()) {
            if (d.delta() instanceof EntryState.Tombstone t) {
                notAfter(t.deleted(), c.cid(), "entry", d.id());
                continue;
            }
            for (Version v : ((EntryState.Live) d.delta()).versions().values()) {
                notAfter(v.created(), c.cid(), "entry", d.id());
                if (v.isDiscarded()) {
                    notAfter(v.discarded(), c.cid(), "entry", d.id());
                }
                for (AttributeState a : v.attributes().values()) {
                    if (a instanceof Register r) {
                        notAfter(r.cid(), c.cid(), "entry", d.id());
                    } else {
                        for (ValueMarks marks : ((ValueSet) a).values().values()) {
                            notAfter(marks.added(), c.cid(), "entry", d.id());
                            if (marks.removed() != null) {
                                notAfter(marks.removed(), c.cid(), "entry", d.id());
                            }
                        }
                    }
                }
            }
        }
    }

    /** The message names {@code kind} and {@code name}, built only on failure: this runs for every CID of every record. */
    private static void notAfter(Cid inner, Cid record, String kind, Object name) {
        if (inner.compareTo(record) > 0) {
            throw new MalformedChangeException(kind + " '" + name + "' carries CID " + inner + ", later than its own change " + record);
        }
    }

    // ---- flags

    static byte[] flags(ConflictFlags f) {
        StoreRecords.ConflictFlags.Builder b = StoreRecords.ConflictFlags.newBuilder().setEntryConflict(f.entryConflict());
        for (ConflictedEntry.UniqueClash c : f.unique()) {
            b.addUnique(StoreRecords.UniqueClash.newBuilder().setAttribute(c.attribute()).setValue(c.value().bytes));
        }
        if (f.invalid() != null) {
            b.setInvalid(f.invalid());
        }
        return b.build().toByteArray();
    }

    static ConflictFlags flags(byte[] bytes) {
        try {
            StoreRecords.ConflictFlags m = StoreRecords.ConflictFlags.parseFrom(bytes);
            TreeSet<ConflictedEntry.UniqueClash> unique = new TreeSet<>(ConflictFlags.ORDER);
            for (StoreRecords.UniqueClash c : m.getUniqueList()) {
                unique.add(new ConflictedEntry.UniqueClash(c.getAttribute(), Value.wrap(c.getValue())));
            }
            return new ConflictFlags(m.getEntryConflict(), unique, m.getInvalid().isEmpty() ? null : m.getInvalid());
        } catch (InvalidProtocolBufferException e) {
            throw new MalformedChangeException("stored conflict flags are corrupt: " + e.getMessage(), e);
        }
    }
}
