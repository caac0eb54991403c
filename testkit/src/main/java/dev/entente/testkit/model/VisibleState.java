package dev.entente.testkit.model;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.Cid;
import dev.entente.engine.ConflictedEntry;
import dev.entente.engine.Engine;
import dev.entente.engine.Entry;
import dev.entente.engine.Namespace;
import dev.entente.engine.Page;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * What a replica shows through its public reads, in a form both the engine and the reference
 * model can produce: namespaces and schemas, live entries with their present values, and
 * conflicted entries with their conflict versions and unique clashes. CIDs are written
 * {@code hlc@origin}.
 */
public record VisibleState(SortedMap<String, String> namespaces,
                           SortedMap<String, SortedMap<UUID, Shown>> visible,
                           SortedMap<String, SortedMap<UUID, Conflict>> conflicted) {

    /** An entry version as shown: its created CID and present values (UTF-8). */
    public record Shown(String created, SortedMap<String, List<String>> attributes) {
    }

    /** A conflicted entry: the owner (null when none), conflict versions, and unique clashes. */
    public record Conflict(Shown owner, List<Shown> versions, SortedSet<String> clashes) {
    }

    public static String cid(Cid c) {
        return c.hlc() + "@" + c.origin();
    }

    static SortedMap<String, List<String>> texts(Map<String, List<ByteString>> values) {
        TreeMap<String, List<String>> out = new TreeMap<>();
        values.forEach((name, vs) -> {
            if (!vs.isEmpty()) {
                List<String> t = new ArrayList<>();
                vs.forEach(v -> t.add(v.toStringUtf8()));
                out.put(name, t);
            }
        });
        return out;
    }

    private static Shown shown(Entry e) {
        TreeMap<String, List<String>> texts = new TreeMap<>();
        e.attributes().names().forEach(name -> texts.put(name, e.attributes().texts(name)));
        return new Shown(cid(e.created()), texts);
    }

    /** Reads everything the engine shows, through its public API. */
    public static VisibleState of(Engine engine) {
        TreeMap<String, String> namespaces = new TreeMap<>();
        TreeMap<String, SortedMap<UUID, Shown>> visible = new TreeMap<>();
        TreeMap<String, SortedMap<UUID, Conflict>> conflicted = new TreeMap<>();
        for (Namespace ns : engine.namespaces().values()) {
            namespaces.put(ns.name(), schema(ns.schema().uniqueAttributes(), ns.schema().setAttributes(), ns.schema().mergeConcurrentCreates()));
            TreeMap<UUID, Shown> live = new TreeMap<>();
            UUID after = null;
            do {
                Page<Entry> page = engine.list(ns.name(), after, 1000);
                page.items().forEach(e -> live.put(e.id(), shown(e)));
                after = page.nextAfter();
            } while (after != null);
            visible.put(ns.name(), live);
            TreeMap<UUID, Conflict> conflicts = new TreeMap<>();
            after = null;
            do {
                Page<ConflictedEntry> page = engine.conflicts(ns.name(), after, 1000);
                for (ConflictedEntry c : page.items()) {
                    List<Shown> versions = new ArrayList<>();
                    c.conflictVersions().forEach(v -> versions.add(shown(v)));
                    TreeSet<String> clashes = new TreeSet<>();
                    c.uniqueClashes().forEach(u -> clashes.add(u.attribute() + "=" + u.value().text()));
                    conflicts.put(c.id(), new Conflict(c.entry() == null ? null : shown(c.entry()), versions, clashes));
                }
                after = page.nextAfter();
            } while (after != null);
            conflicted.put(ns.name(), conflicts);
        }
        return new VisibleState(namespaces, visible, conflicted);
    }

    static String schema(java.util.Collection<String> unique, java.util.Collection<String> sets, boolean merge) {
        return "unique=" + new TreeSet<>(unique) + " sets=" + new TreeSet<>(sets) + " mergeConcurrentCreates=" + merge;
    }

    /** A readable account of how this state differs from {@code other}; empty when equal. */
    public String differences(VisibleState other, String mine, String theirs) {
        StringBuilder sb = new StringBuilder();
        if (!namespaces.equals(other.namespaces)) {
            sb.append("namespaces: ").append(mine).append(' ').append(namespaces).append(" vs ").append(theirs).append(' ').append(other.namespaces).append('\n');
        }
        diff(sb, "visible", visible, other.visible, mine, theirs);
        diff(sb, "conflicted", conflicted, other.conflicted, mine, theirs);
        return sb.toString();
    }

    private static <V> void diff(StringBuilder sb, String what, SortedMap<String, ? extends SortedMap<UUID, V>> a,
                                 SortedMap<String, ? extends SortedMap<UUID, V>> b, String mine, String theirs) {
        TreeSet<String> names = new TreeSet<>(a.keySet());
        names.addAll(b.keySet());
        int shown = 0;
        for (String ns : names) {
            SortedMap<UUID, V> x = a.containsKey(ns) ? a.get(ns) : new TreeMap<UUID, V>();
            SortedMap<UUID, V> y = b.containsKey(ns) ? b.get(ns) : new TreeMap<UUID, V>();
            TreeSet<UUID> ids = new TreeSet<>(x.keySet());
            ids.addAll(y.keySet());
            for (UUID id : ids) {
                if (!java.util.Objects.equals(x.get(id), y.get(id)) && shown++ < 10) {
                    sb.append(what).append(' ').append(ns).append('/').append(id).append(": ").append(mine).append(' ')
                            .append(x.get(id)).append(" vs ").append(theirs).append(' ').append(y.get(id)).append('\n');
                }
            }
        }
    }
}
