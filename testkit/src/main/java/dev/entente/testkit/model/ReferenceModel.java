package dev.entente.testkit.model;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.entente.protocol.Wire;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * A small, deliberately plain implementation of the contract's merge rules, written apart from
 * the engine's merge code: it folds every committed change record, in any order, into the state
 * every replica must converge to. It has no RocksDB, no changelog, no RUV, no reaping: it keeps
 * everything, and answers with what a replica must show ({@link VisibleState}).
 *
 * <p>The rules, as the model applies them:
 * <ul>
 *   <li>a namespace definition with a higher CID replaces the schema;</li>
 *   <li>a register write with a higher CID replaces the values (an exact tie: the larger value
 *       list, compared as unsigned bytes);</li>
 *   <li>a set value keeps its highest add and its highest remove, and shows when added after it
 *       was removed; a set beats a register of the same attribute;</li>
 *   <li>an entry with any deletion is deleted; a version with any discard is gone;</li>
 *   <li>of the versions left, the lowest created CID owns the id and the others are entry
 *       conflicts, unless the namespace merges concurrent creates (then all are joined);</li>
 *   <li>owners sharing a value of a unique attribute are all conflicted and hidden.</li>
 * </ul>
 */
public final class ReferenceModel {

    /** A CID: compared by hlc, then origin as an unsigned 128-bit number. */
    record Id(long hlc, long hi, long lo) implements Comparable<Id> {
        @Override
        public int compareTo(Id o) {
            if (hlc != o.hlc) {
                return Long.compare(hlc, o.hlc);
            }
            if (hi != o.hi) {
                return Long.compareUnsigned(hi, o.hi);
            }
            return Long.compareUnsigned(lo, o.lo);
        }

        @Override
        public String toString() {
            return hlc + "@" + String.format("%016x%016x", hi, lo);
        }
    }

    private static final class Ns {
        Id cid;
        List<String> unique;
        List<String> sets;
        boolean merge;
    }

    private static final class Attr {
        boolean set;
        Id cid;
        List<ByteString> values = new ArrayList<>();
        final TreeMap<ByteString, Id[]> marks = new TreeMap<>(ByteString.unsignedLexicographicalComparator());
    }

    private static final class Ver {
        Id discarded;
        final Map<String, Attr> attrs = new HashMap<>();
    }

    private static final class Ent {
        Id deleted;
        final TreeMap<Id, Ver> versions = new TreeMap<>();
    }

    private final Map<String, Ns> namespaces = new HashMap<>();
    private final Map<String, Map<UUID, Ent>> entries = new HashMap<>();
    private int records;

    public int records() {
        return records;
    }

    /** Folds one committed change record in. */
    public void apply(ByteString bytes) {
        Wire.ChangeRecord r;
        try {
            r = Wire.ChangeRecord.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("not a change record", e);
        }
        records++;
        ByteBuffer o = r.getOrigin().asReadOnlyByteBuffer();
        Id context = new Id(r.getHlc(), o.getLong(), o.getLong());
        for (Wire.NamespaceState n : r.getNamespacesList()) {
            Id cid = n.hasCid() ? id(n.getCid(), context) : context;
            Ns ns = namespaces.computeIfAbsent(n.getName(), k -> new Ns());
            if (ns.cid == null || cid.compareTo(ns.cid) > 0) {
                ns.cid = cid;
                ns.unique = n.getSchema().getUniqueAttributesList();
                ns.sets = n.getSchema().getSetAttributesList();
                ns.merge = n.getSchema().getMergeConcurrentCreates();
            }
        }
        for (Wire.EntryChange e : r.getEntriesList()) {
            ByteBuffer idb = e.getId().asReadOnlyByteBuffer();
            UUID id = new UUID(idb.getLong(), idb.getLong());
            Ent ent = entries.computeIfAbsent(e.getNamespace(), k -> new HashMap<>()).computeIfAbsent(id, k -> new Ent());
            if (e.hasDeleted()) {
                ent.deleted = min(ent.deleted, id(e.getDeleted(), context));
            }
            if (e.hasVersion()) {
                Wire.Version v = e.getVersion();
                Id created = v.hasCreated() ? id(v.getCreated(), context) : context;
                Ver ver = ent.versions.computeIfAbsent(created, k -> new Ver());
                if (v.hasDiscarded()) {
                    ver.discarded = min(ver.discarded, id(v.getDiscarded(), context));
                }
                for (Wire.AttributeState a : v.getAttributesList()) {
                    Attr incoming = attr(a, context);
                    Attr mine = ver.attrs.get(a.getName());
                    ver.attrs.put(a.getName(), mine == null ? incoming : combine(mine, incoming));
                }
            }
        }
    }

    private static Attr attr(Wire.AttributeState a, Id context) {
        Attr x = new Attr();
        x.set = a.getIsSet();
        if (!x.set) {
            x.cid = a.hasCid() ? id(a.getCid(), context) : context;
            TreeSet<ByteString> sorted = new TreeSet<>(ByteString.unsignedLexicographicalComparator());
            sorted.addAll(a.getValuesList());
            x.values = new ArrayList<>(sorted);
        } else {
            for (Wire.SetValue sv : a.getSetValuesList()) {
                Id add = sv.hasAdded() ? id(sv.getAdded(), context) : context;
                Id rem = sv.hasRemoved() ? id(sv.getRemoved(), context) : null;
                x.marks.put(sv.getValue(), new Id[] {add, rem});
            }
        }
        return x;
    }

    /** The later of two states of one attribute. */
    private static Attr combine(Attr a, Attr b) {
        if (a.set != b.set) {
            return a.set ? a : b;
        }
        if (!a.set) {
            int c = a.cid.compareTo(b.cid);
            if (c == 0) {
                c = compareValues(a.values, b.values);
            }
            return c >= 0 ? a : b;
        }
        Attr x = new Attr();
        x.set = true;
        x.marks.putAll(a.marks);
        b.marks.forEach((value, m) -> {
            Id[] mine = x.marks.get(value);
            x.marks.put(value, mine == null ? m : new Id[] {max(mine[0], m[0]), max(mine[1], m[1])});
        });
        return x;
    }

    private static int compareValues(List<ByteString> a, List<ByteString> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = ByteString.unsignedLexicographicalComparator().compare(a.get(i), b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    private static List<ByteString> present(Attr a) {
        if (!a.set) {
            return a.values;
        }
        List<ByteString> out = new ArrayList<>();
        a.marks.forEach((value, m) -> {
            if (m[1] == null || m[0].compareTo(m[1]) > 0) {
                out.add(value);
            }
        });
        return out;
    }

    private static Id id(Wire.Cid c, Id context) {
        if (c.getHlc() == 0) {
            return context;
        }
        if (c.getOrigin().isEmpty()) {
            return new Id(c.getHlc(), context.hi(), context.lo());
        }
        ByteBuffer o = c.getOrigin().asReadOnlyByteBuffer();
        return new Id(c.getHlc(), o.getLong(), o.getLong());
    }

    private static Id min(Id a, Id b) {
        return a == null ? b : b == null ? a : a.compareTo(b) <= 0 ? a : b;
    }

    private static Id max(Id a, Id b) {
        return a == null ? b : b == null ? a : a.compareTo(b) >= 0 ? a : b;
    }

    // ---- what replicas must show

    private record Owner(UUID id, Id created, SortedMap<String, List<ByteString>> values, List<VisibleState.Shown> conflicts) {
    }

    /** The state every converged replica must show. */
    public VisibleState expected() {
        TreeMap<String, String> schemas = new TreeMap<>();
        TreeMap<String, SortedMap<UUID, VisibleState.Shown>> visible = new TreeMap<>();
        TreeMap<String, SortedMap<UUID, VisibleState.Conflict>> conflicted = new TreeMap<>();
        for (Map.Entry<String, Ns> n : namespaces.entrySet()) {
            Ns ns = n.getValue();
            schemas.put(n.getKey(), VisibleState.schema(ns.unique, ns.sets, ns.merge));
            List<Owner> owners = new ArrayList<>();
            for (Map.Entry<UUID, Ent> e : entries.getOrDefault(n.getKey(), Map.of()).entrySet()) {
                Ent ent = e.getValue();
                if (ent.deleted != null) {
                    continue;
                }
                Id ownerCreated = null;
                Map<String, Attr> ownerAttrs = null;
                List<VisibleState.Shown> others = new ArrayList<>();
                for (Map.Entry<Id, Ver> v : ent.versions.entrySet()) {
                    if (v.getValue().discarded != null) {
                        continue;
                    }
                    if (ownerCreated == null) {
                        ownerCreated = v.getKey();
                        ownerAttrs = new HashMap<>(v.getValue().attrs);
                    } else if (ns.merge) {
                        for (Map.Entry<String, Attr> a : v.getValue().attrs.entrySet()) {
                            ownerAttrs.merge(a.getKey(), a.getValue(), ReferenceModel::combine);
                        }
                    } else {
                        others.add(new VisibleState.Shown(v.getKey().toString(), VisibleState.texts(presentValues(v.getValue().attrs))));
                    }
                }
                if (ownerCreated != null) {
                    owners.add(new Owner(e.getKey(), ownerCreated, presentValues(ownerAttrs), others));
                }
            }
            Map<String, List<UUID>> groups = new HashMap<>();
            for (Owner w : owners) {
                for (String u : ns.unique) {
                    for (ByteString v : w.values().getOrDefault(u, List.of())) {
                        groups.computeIfAbsent(u + "=" + v.toStringUtf8(), k -> new ArrayList<>()).add(w.id());
                    }
                }
            }
            TreeMap<UUID, VisibleState.Shown> live = new TreeMap<>();
            TreeMap<UUID, VisibleState.Conflict> conflicts = new TreeMap<>();
            for (Owner w : owners) {
                TreeSet<String> clashes = new TreeSet<>();
                groups.forEach((clash, ids) -> {
                    if (ids.size() > 1 && ids.contains(w.id())) {
                        clashes.add(clash);
                    }
                });
                VisibleState.Shown shown = new VisibleState.Shown(w.created().toString(), VisibleState.texts(w.values()));
                if (clashes.isEmpty()) {
                    live.put(w.id(), shown);
                }
                if (!clashes.isEmpty() || !w.conflicts().isEmpty()) {
                    conflicts.put(w.id(), new VisibleState.Conflict(shown, w.conflicts(), clashes));
                }
            }
            visible.put(n.getKey(), live);
            conflicted.put(n.getKey(), conflicts);
        }
        return new VisibleState(schemas, visible, conflicted);
    }

    private static SortedMap<String, List<ByteString>> presentValues(Map<String, Attr> attrs) {
        TreeMap<String, List<ByteString>> out = new TreeMap<>();
        attrs.forEach((name, a) -> {
            List<ByteString> p = present(a);
            if (!p.isEmpty()) {
                out.put(name, p);
            }
        });
        return out;
    }

    /** Ids the model holds as deleted, by namespace. */
    public Map<String, java.util.Set<UUID>> deleted() {
        Map<String, java.util.Set<UUID>> out = new TreeMap<>();
        entries.forEach((ns, m) -> m.forEach((id, e) -> {
            if (e.deleted != null) {
                out.computeIfAbsent(ns, k -> new java.util.TreeSet<>()).add(id);
            }
        }));
        return out;
    }
}
