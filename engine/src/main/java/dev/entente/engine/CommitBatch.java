package dev.entente.engine;

import com.google.protobuf.ByteString;
import dev.entente.engine.merge.EntryState;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * Everything one commit writes, gathered before it goes to RocksDB as a single atomic write
 * batch. Entry states, unique-index groups and conflict flags are kept decoded in an overlay, so
 * a commit that touches an entry several times reads its own writes and encodes each key once.
 */
final class CommitBatch implements AutoCloseable {

    record EntryKey(String namespace, UUID id) {
    }

    record UniqueKey(String namespace, String attribute, ByteString value) {
    }

    final Store store;
    private final WriteBatch batch = new WriteBatch();
    private final Map<EntryKey, EntryState> entries = new HashMap<>();
    private final Map<EntryKey, ConflictFlags> flags = new HashMap<>();
    private final Map<UniqueKey, List<UUID>> unique = new HashMap<>();
    private final Map<String, Namespace> namespaces = new HashMap<>();
    /** Namespaces whose unique index and flags were wiped in this batch: the store's are stale. */
    private final Set<String> rebuilt = new HashSet<>();

    CommitBatch(Store store) {
        this.store = store;
    }

    // ---- entries

    /** The entry's state as of this batch, or null when there is none. */
    EntryState entry(String namespace, UUID id) {
        EntryKey k = new EntryKey(namespace, id);
        if (entries.containsKey(k)) {
            return entries.get(k);
        }
        byte[] v = store.get(store.entries, Keys.entry(namespace, id));
        EntryState s = v == null ? null : WireCodec.state(v);
        entries.put(k, s);
        return s;
    }

    /** Sets the entry's state; null removes it (a reaped tombstone). */
    void putEntry(String namespace, UUID id, EntryState state) {
        entries.put(new EntryKey(namespace, id), state);
        dirtyEntries.add(new EntryKey(namespace, id));
    }

    private final Set<EntryKey> dirtyEntries = new HashSet<>();

    private record Encoded(EntryState state, ChangeBytes record, int index) {
    }

    private final Map<EntryKey, Encoded> encoded = new HashMap<>();

    /**
     * Offers the wire form of a change's version for an entry whose state may end up being exactly
     * that one version (a create): the commit then stores it without encoding the state again.
     * Used only if the entry's final state in this batch is {@code state} itself.
     */
    void offerEncoding(String namespace, UUID id, EntryState state, ChangeBytes record, int index) {
        encoded.put(new EntryKey(namespace, id), new Encoded(state, record, index));
    }

    /** Every entry of a namespace as of this batch: the store's, overlaid by this batch's writes. */
    Map<UUID, EntryState> entriesOf(String namespace) {
        Map<UUID, EntryState> all = new HashMap<>();
        byte[] prefix = Keys.namespacePrefix(namespace);
        try (RocksIterator it = store.iterator(store.entries)) {
            for (it.seek(prefix); it.isValid() && Keys.startsWith(it.key(), prefix); it.next()) {
                all.put(Keys.entryId(it.key()), WireCodec.state(it.value()));
            }
        }
        for (EntryKey k : dirtyEntries) {
            if (k.namespace().equals(namespace)) {
                EntryState s = entries.get(k);
                if (s == null) {
                    all.remove(k.id());
                } else {
                    all.put(k.id(), s);
                }
            }
        }
        return all;
    }

    /**
     * Reads the given entries and unique-index groups in one multi-get instead of one lookup each
     * (the commit path's main cost after the write itself), then the conflict flags of the entries
     * that exist. Keys already in the overlay are skipped.
     */
    void prefetch(java.util.Collection<EntryKey> entryKeys, java.util.Collection<UniqueKey> uniqueKeys) {
        // A key named twice is simply read twice (nothing is written yet), rather than every key
        // being hashed into a set first.
        List<EntryKey> wantedEntries = new ArrayList<>(entryKeys.size());
        for (EntryKey k : entryKeys) {
            if (!entries.containsKey(k)) {
                wantedEntries.add(k);
            }
        }
        List<UniqueKey> wantedUnique = new ArrayList<>(uniqueKeys.size());
        for (UniqueKey k : uniqueKeys) {
            if (!unique.containsKey(k) && !rebuilt.contains(k.namespace())) {
                wantedUnique.add(k);
            }
        }
        if (wantedEntries.isEmpty() && wantedUnique.isEmpty()) {
            return;
        }
        List<ColumnFamilyHandle> cfs = new ArrayList<>(wantedEntries.size() + wantedUnique.size());
        List<byte[]> keys = new ArrayList<>(cfs.size());
        for (EntryKey k : wantedEntries) {
            cfs.add(store.entries);
            keys.add(Keys.entry(k.namespace(), k.id()));
        }
        for (UniqueKey k : wantedUnique) {
            cfs.add(store.unique);
            keys.add(Keys.unique(k.namespace(), k.attribute(), k.value()));
        }
        List<byte[]> values = multiGet(cfs, keys);
        List<EntryKey> existing = new ArrayList<>();
        for (int i = 0; i < wantedEntries.size(); i++) {
            byte[] v = values.get(i);
            EntryState state = v == null ? null : WireCodec.state(v);
            entries.put(wantedEntries.get(i), state);
            if (state instanceof EntryState.Live) {
                existing.add(wantedEntries.get(i));
            } else {
                // No state, or a tombstone: such an entry has no conflict flags.
                flags.putIfAbsent(wantedEntries.get(i), ConflictFlags.NONE);
            }
        }
        for (int i = 0; i < wantedUnique.size(); i++) {
            byte[] v = values.get(wantedEntries.size() + i);
            unique.put(wantedUnique.get(i), v == null ? List.of() : decodeIds(v));
        }
        existing.removeIf(k -> flags.containsKey(k) || rebuilt.contains(k.namespace()));
        if (!existing.isEmpty()) {
            List<ColumnFamilyHandle> flagCfs = new ArrayList<>(existing.size());
            List<byte[]> flagKeys = new ArrayList<>(existing.size());
            for (EntryKey k : existing) {
                flagCfs.add(store.flags);
                flagKeys.add(Keys.entry(k.namespace(), k.id()));
            }
            List<byte[]> flagValues = multiGet(flagCfs, flagKeys);
            for (int i = 0; i < existing.size(); i++) {
                byte[] v = flagValues.get(i);
                flags.put(existing.get(i), v == null ? ConflictFlags.NONE : WireCodec.flags(v));
            }
        }
    }

    private List<byte[]> multiGet(List<ColumnFamilyHandle> cfs, List<byte[]> keys) {
        try {
            return store.db.multiGetAsList(cfs, keys);
        } catch (RocksDBException e) {
            throw store.fail("reading", e);
        }
    }

    // ---- conflict flags

    ConflictFlags flags(String namespace, UUID id) {
        EntryKey k = new EntryKey(namespace, id);
        ConflictFlags f = flags.get(k);
        if (f != null) {
            return f;
        }
        byte[] v = rebuilt.contains(namespace) ? null : store.get(store.flags, Keys.entry(namespace, id));
        f = v == null ? ConflictFlags.NONE : WireCodec.flags(v);
        flags.put(k, f);
        return f;
    }

    void putFlags(String namespace, UUID id, ConflictFlags f) {
        flags.put(new EntryKey(namespace, id), f);
        dirtyFlags.add(new EntryKey(namespace, id));
    }

    private final Set<EntryKey> dirtyFlags = new HashSet<>();

    // ---- unique index

    /** The live entries holding {@code value} of a unique attribute, in id order. */
    List<UUID> uniqueHolders(String namespace, String attribute, ByteString value) {
        UniqueKey k = new UniqueKey(namespace, attribute, value);
        List<UUID> h = unique.get(k);
        if (h != null) {
            return h;
        }
        byte[] v = rebuilt.contains(namespace) ? null : store.get(store.unique, Keys.unique(namespace, attribute, value));
        h = v == null ? List.of() : decodeIds(v);
        unique.put(k, h);
        return h;
    }

    void putUniqueHolders(String namespace, String attribute, ByteString value, List<UUID> holders) {
        unique.put(new UniqueKey(namespace, attribute, value), List.copyOf(holders));
        dirtyUnique.add(new UniqueKey(namespace, attribute, value));
    }

    private final Set<UniqueKey> dirtyUnique = new HashSet<>();

    /**
     * Forgets the namespace's unique index and conflict flags, in the store and in this batch, so
     * they can be recomputed from the entries (after a schema change).
     */
    void wipeDerived(String namespace) {
        byte[] prefix = Keys.namespacePrefix(namespace);
        byte[] end = prefix.clone();
        end[end.length - 1]++;
        try {
            batch.deleteRange(store.unique, prefix, end);
            batch.deleteRange(store.flags, prefix, end);
        } catch (RocksDBException e) {
            throw store.fail("preparing", e);
        }
        unique.keySet().removeIf(k -> k.namespace().equals(namespace));
        dirtyUnique.removeIf(k -> k.namespace().equals(namespace));
        flags.keySet().removeIf(k -> k.namespace().equals(namespace));
        dirtyFlags.removeIf(k -> k.namespace().equals(namespace));
        rebuilt.add(namespace);
    }

    // ---- namespaces

    Namespace namespace(String name) {
        Namespace n = namespaces.get(name);
        return n != null ? n : store.namespaceMap.get(name);
    }

    void putNamespace(Namespace ns) {
        namespaces.put(ns.name(), ns);
    }

    Map<String, Namespace> namespaceChanges() {
        return namespaces;
    }

    // ---- raw writes

    void put(ColumnFamilyHandle cf, byte[] key, byte[] value) {
        try {
            batch.put(cf, key, value);
        } catch (RocksDBException e) {
            throw store.fail("preparing", e);
        }
    }

    void delete(ColumnFamilyHandle cf, byte[] key) {
        try {
            batch.delete(cf, key);
        } catch (RocksDBException e) {
            throw store.fail("preparing", e);
        }
    }

    void deleteRange(ColumnFamilyHandle cf, byte[] from, byte[] to) throws RocksDBException {
        batch.deleteRange(cf, from, to);
    }

    /** Encodes the overlay into the write batch and writes it atomically. */
    void commit() {
        for (EntryKey k : dirtyEntries) {
            EntryState s = entries.get(k);
            byte[] key = Keys.entry(k.namespace(), k.id());
            Encoded e = encoded.get(k);
            if (s == null) {
                delete(store.entries, key);
            } else if (e != null && e.state() == s) {
                put(store.entries, key, WireCodec.storedState(e.record().bytes(), e.record().versionStart(e.index()),
                        e.record().versionEnd(e.index()), ((EntryState.Live) s).versions().firstKey()));
            } else {
                put(store.entries, key, WireCodec.state(s));
            }
        }
        for (EntryKey k : dirtyFlags) {
            ConflictFlags f = flags.get(k);
            byte[] key = Keys.entry(k.namespace(), k.id());
            if (f.any()) {
                put(store.flags, key, WireCodec.flags(f));
            } else {
                delete(store.flags, key);
            }
        }
        for (UniqueKey k : dirtyUnique) {
            List<UUID> h = unique.get(k);
            byte[] key = Keys.unique(k.namespace(), k.attribute(), k.value());
            if (h.isEmpty()) {
                delete(store.unique, key);
            } else {
                put(store.unique, key, encodeIds(h));
            }
        }
        for (Namespace ns : namespaces.values()) {
            put(store.namespaces, Keys.meta(ns.name()), WireCodec.namespace(ns, null).toByteArray());
        }
        store.write(batch);
    }

    static byte[] encodeIds(List<UUID> ids) {
        ByteBuffer b = ByteBuffer.allocate(16 * ids.size());
        for (UUID id : ids) {
            b.putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
        }
        return b.array();
    }

    static List<UUID> decodeIds(byte[] v) {
        List<UUID> ids = new ArrayList<>(v.length / 16);
        ByteBuffer b = ByteBuffer.wrap(v);
        while (b.remaining() >= 16) {
            ids.add(new UUID(b.getLong(), b.getLong()));
        }
        return ids;
    }

    @Override
    public void close() {
        batch.close();
    }
}
