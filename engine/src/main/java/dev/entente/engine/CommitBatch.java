package dev.entente.engine;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.Cid;
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

    // The keys' equals and hashCode are written out, for the reason given in Cid: a replica's
    // first catch-up hashes several keys for every entry it applies.

    record EntryKey(String namespace, UUID id) {
        @Override
        public boolean equals(Object o) {
            return o instanceof EntryKey k && id.equals(k.id) && namespace.equals(k.namespace);
        }

        @Override
        public int hashCode() {
            return namespace.hashCode() * 31 + id.hashCode();
        }
    }

    record UniqueKey(String namespace, String attribute, ByteString value) {
        @Override
        public boolean equals(Object o) {
            return o instanceof UniqueKey k && value.equals(k.value) && attribute.equals(k.attribute) && namespace.equals(k.namespace);
        }

        @Override
        public int hashCode() {
            return (namespace.hashCode() * 31 + attribute.hashCode()) * 31 + value.hashCode();
        }
    }

    /** What this batch knows of one entry: its state, its conflict flags, what it changed. */
    private static final class EntrySlot {
        final EntryKey key;
        /** Whether {@link #state} was read or written; null there means no entry. */
        boolean stateKnown;
        EntryState state;
        boolean stateDirty;
        /** Null until read or written. */
        ConflictFlags flags;
        boolean flagsDirty;
        /** A change record's encoding of {@link #offered}, which the commit stores if the state is still it. */
        EntryState offered;
        ChangeBytes record;
        int index;
        /** The stored form of {@link #storedFor}, as a refresh received it; the commit stores it if the state is still that. */
        byte[] stored;
        EntryState storedFor;

        /** The entry's RocksDB key (entries and flags), built once for the prefetch and the commit. */
        private byte[] storeKey;

        EntrySlot(EntryKey key) {
            this.key = key;
        }

        byte[] storeKey() {
            if (storeKey == null) {
                storeKey = Keys.entry(key.namespace(), key.id());
            }
            return storeKey;
        }
    }

    /** One unique-index group as of this batch. */
    private static final class UniqueSlot {
        final UniqueKey key;
        List<UUID> holders;
        boolean dirty;
        /** The group's RocksDB key, built once for the prefetch and the commit. */
        private byte[] storeKey;

        UniqueSlot(UniqueKey key, List<UUID> holders) {
            this.key = key;
            this.holders = holders;
        }

        byte[] storeKey() {
            if (storeKey == null) {
                storeKey = Keys.unique(key.namespace(), key.attribute(), key.value());
            }
            return storeKey;
        }
    }

    final Store store;
    private final WriteBatch batch = new WriteBatch();
    // One slot per entry or group, and lists of the ones to write, rather than a map per kind of
    // value and sets of dirty keys: a commit of remote batches touches ten thousand entries, and
    // hash lookups and resizes of those maps were most of its Java time.
    private Map<EntryKey, EntrySlot> entries = new HashMap<>();
    private final List<EntrySlot> dirtyEntries = new ArrayList<>();
    private final List<EntrySlot> dirtyFlags = new ArrayList<>();
    /** The slot used last: writing one entry asks for its state, then its flags, several times. */
    private EntrySlot last;
    private Map<UniqueKey, UniqueSlot> unique = new HashMap<>();
    /** The group used last: joining or leaving one reads its holders, then writes them. */
    private UniqueSlot lastUnique;
    private final List<UniqueSlot> dirtyUnique = new ArrayList<>();
    private final Map<String, Namespace> namespaces = new HashMap<>();
    /** Namespaces whose unique index and flags were wiped in this batch: the store's are stale. */
    private final Set<String> rebuilt = new HashSet<>();

    /** Where entry states go instead of the batch, when a refresh builds a store (see {@link #entriesTo}). */
    private BulkLoad entrySink;

    CommitBatch(Store store) {
        this.store = store;
    }

    /**
     * Sends entry states to {@code sink} rather than into the store, for a refresh's import: each
     * entry arrives once, in key order, so none has a state in the store to read first, and
     * states can only be set, never removed.
     */
    void entriesTo(BulkLoad sink) {
        this.entrySink = sink;
    }

    // ---- entries

    private EntrySlot slot(String namespace, UUID id) {
        EntrySlot s = last;
        if (s != null && s.key.id().equals(id) && s.key.namespace().equals(namespace)) {
            return s;
        }
        EntryKey k = new EntryKey(namespace, id);
        s = entries.get(k);
        if (s == null) {
            s = new EntrySlot(k);
            entries.put(k, s);
        }
        last = s;
        return s;
    }

    /** The entry's state as of this batch, or null when there is none. */
    EntryState entry(String namespace, UUID id) {
        EntrySlot s = slot(namespace, id);
        if (!s.stateKnown) {
            byte[] v = entrySink != null ? null : store.get(store.entries, s.storeKey());
            s.state = v == null ? null : WireCodec.state(v);
            s.stateKnown = true;
        }
        return s.state;
    }

    /** Sets the entry's state; null removes it (a reaped tombstone). */
    void putEntry(String namespace, UUID id, EntryState state) {
        EntrySlot s = slot(namespace, id);
        s.state = state;
        s.stateKnown = true;
        if (!s.stateDirty) {
            s.stateDirty = true;
            dirtyEntries.add(s);
        }
    }

    /**
     * Offers the stored form of {@code state}, as a snapshot carried it, before the state is
     * applied: if the entry's final state in this batch is that state itself, the commit stores
     * these bytes without encoding it again. {@code key} is the entry's store key, which the
     * caller already built.
     */
    void offerStored(String namespace, UUID id, byte[] key, EntryState state, byte[] bytes) {
        EntrySlot s = slot(namespace, id);
        if (s.storeKey == null) {
            s.storeKey = key;
        }
        s.storedFor = state;
        s.stored = bytes;
    }

    /**
     * Offers the wire form of the version that entry change {@code index} of {@code record}
     * creates, when the record holds one (see {@link ChangeBytes#reusable}): if the entry's final
     * state in this batch is that version itself (a create), the commit stores it without encoding
     * the state again.
     */
    void offerEncoding(ChangeBytes record, int index) {
        if (!record.reusable(index)) {
            return;
        }
        Change.EntryDelta d = record.change().entries().get(index);
        EntrySlot s = slot(d.namespace(), d.id());
        s.offered = d.delta();
        s.record = record;
        s.index = index;
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
        for (EntrySlot s : dirtyEntries) {
            if (s.key.namespace().equals(namespace)) {
                if (s.state == null) {
                    all.remove(s.key.id());
                } else {
                    all.put(s.key.id(), s.state);
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
        if (entries.isEmpty() && entryKeys.size() > 12) {
            // Sized once for the whole commit instead of rehashed as it grows.
            entries = new HashMap<>(entryKeys.size() * 4 / 3 + 1);
        }
        if (unique.isEmpty() && uniqueKeys.size() > 12) {
            unique = new HashMap<>(uniqueKeys.size() * 4 / 3 + 1);
        }
        // A key named twice is simply read twice (nothing is written yet), rather than every key
        // being hashed into a set first.
        List<EntrySlot> wantedEntries = new ArrayList<>(entryKeys.size());
        for (EntryKey k : entryKeys) {
            EntrySlot s = entries.get(k);
            if (s == null) {
                s = new EntrySlot(k);
                entries.put(k, s);
            }
            if (!s.stateKnown) {
                wantedEntries.add(s);
            }
        }
        List<UniqueSlot> wantedUnique = new ArrayList<>(uniqueKeys.size());
        for (UniqueKey k : uniqueKeys) {
            if (!unique.containsKey(k) && !rebuilt.contains(k.namespace())) {
                wantedUnique.add(new UniqueSlot(k, null));
            }
        }
        if (wantedEntries.isEmpty() && wantedUnique.isEmpty()) {
            return;
        }
        List<ColumnFamilyHandle> cfs = new ArrayList<>(wantedEntries.size() + wantedUnique.size());
        List<byte[]> keys = new ArrayList<>(cfs.size());
        for (EntrySlot s : wantedEntries) {
            cfs.add(store.entries);
            keys.add(s.storeKey());
        }
        for (UniqueSlot u : wantedUnique) {
            cfs.add(store.unique);
            keys.add(u.storeKey());
        }
        List<byte[]> values = multiGet(cfs, keys);
        List<EntrySlot> existing = new ArrayList<>();
        for (int i = 0; i < wantedEntries.size(); i++) {
            EntrySlot s = wantedEntries.get(i);
            byte[] v = values.get(i);
            s.state = v == null ? null : WireCodec.state(v);
            s.stateKnown = true;
            if (s.state instanceof EntryState.Live) {
                if (s.flags == null && !rebuilt.contains(s.key.namespace())) {
                    existing.add(s);
                }
            } else if (s.flags == null) {
                // No state, or a tombstone: such an entry has no conflict flags.
                s.flags = ConflictFlags.NONE;
            }
        }
        for (int i = 0; i < wantedUnique.size(); i++) {
            byte[] v = values.get(wantedEntries.size() + i);
            UniqueSlot u = wantedUnique.get(i);
            u.holders = v == null ? List.of() : decodeIds(v);
            // A group named twice was read twice (as entries are); one slot is kept.
            unique.putIfAbsent(u.key, u);
        }
        if (!existing.isEmpty()) {
            List<ColumnFamilyHandle> flagCfs = new ArrayList<>(existing.size());
            List<byte[]> flagKeys = new ArrayList<>(existing.size());
            for (EntrySlot s : existing) {
                flagCfs.add(store.flags);
                flagKeys.add(s.storeKey());
            }
            List<byte[]> flagValues = multiGet(flagCfs, flagKeys);
            for (int i = 0; i < existing.size(); i++) {
                byte[] v = flagValues.get(i);
                existing.get(i).flags = v == null ? ConflictFlags.NONE : WireCodec.flags(v);
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
        EntrySlot s = slot(namespace, id);
        if (s.flags == null) {
            byte[] v = rebuilt.contains(namespace) ? null : store.get(store.flags, s.storeKey());
            s.flags = v == null ? ConflictFlags.NONE : WireCodec.flags(v);
        }
        return s.flags;
    }

    void putFlags(String namespace, UUID id, ConflictFlags f) {
        EntrySlot s = slot(namespace, id);
        s.flags = f;
        if (!s.flagsDirty) {
            s.flagsDirty = true;
            dirtyFlags.add(s);
        }
    }

    // ---- unique index

    private UniqueSlot uniqueSlot(String namespace, String attribute, ByteString value) {
        UniqueSlot u = lastUnique;
        if (u != null && u.key.value().equals(value) && u.key.attribute().equals(attribute) && u.key.namespace().equals(namespace)) {
            return u;
        }
        UniqueKey k = new UniqueKey(namespace, attribute, value);
        u = unique.get(k);
        if (u == null) {
            u = new UniqueSlot(k, null);
            unique.put(k, u);
        }
        lastUnique = u;
        return u;
    }

    /** The live entries holding {@code value} of a unique attribute, in id order. */
    List<UUID> uniqueHolders(String namespace, String attribute, ByteString value) {
        UniqueSlot u = uniqueSlot(namespace, attribute, value);
        if (u.holders == null) {
            byte[] v = rebuilt.contains(namespace) ? null : store.get(store.unique, u.storeKey());
            u.holders = v == null ? List.of() : decodeIds(v);
        }
        return u.holders;
    }

    void putUniqueHolders(String namespace, String attribute, ByteString value, List<UUID> holders) {
        UniqueSlot u = uniqueSlot(namespace, attribute, value);
        u.holders = List.copyOf(holders);
        if (!u.dirty) {
            u.dirty = true;
            dirtyUnique.add(u);
        }
    }

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
        dirtyUnique.removeIf(u -> u.key.namespace().equals(namespace));
        lastUnique = null;
        for (EntrySlot s : entries.values()) {
            if (s.key.namespace().equals(namespace)) {
                s.flags = null;
                s.flagsDirty = false;
            }
        }
        dirtyFlags.removeIf(s -> s.key.namespace().equals(namespace));
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
        for (EntrySlot s : dirtyEntries) {
            byte[] key = s.storeKey();
            if (entrySink != null) {
                if (s.state == null) {
                    throw new IllegalStateException("an import removed an entry it had set: " + s.key);
                }
                entrySink.put(key, s.state == s.storedFor ? s.stored : WireCodec.state(s.state));
            } else if (s.state == null) {
                delete(store.entries, key);
            } else if (s.offered != null && s.offered == s.state) {
                put(store.entries, key, WireCodec.storedState(s.record.bytes(), s.record.versionStart(s.index),
                        s.record.versionEnd(s.index), ((EntryState.Live) s.state).versions().firstKey()));
            } else {
                put(store.entries, key, WireCodec.state(s.state));
            }
        }
        for (EntrySlot s : dirtyFlags) {
            byte[] key = s.storeKey();
            if (s.flags.any()) {
                put(store.flags, key, WireCodec.flags(s.flags));
            } else {
                delete(store.flags, key);
            }
        }
        for (UniqueSlot u : dirtyUnique) {
            byte[] key = u.storeKey();
            if (u.holders.isEmpty()) {
                delete(store.unique, key);
            } else {
                put(store.unique, key, encodeIds(u.holders));
            }
        }
        for (Namespace ns : namespaces.values()) {
            put(store.namespaces, Keys.namespace(ns.name()), WireCodec.namespace(ns, null).toByteArray());
        }
        store.write(batch);
    }

    static byte[] encodeIds(List<UUID> ids) {
        // Not through a ByteBuffer: its putLong ends in a JDK method that a replica's first
        // catch-up ran interpreted, called from compiled code, for every unique-index group.
        byte[] b = new byte[16 * ids.size()];
        for (int i = 0; i < ids.size(); i++) {
            Keys.putLong(b, 16 * i, ids.get(i).getMostSignificantBits());
            Keys.putLong(b, 16 * i + 8, ids.get(i).getLeastSignificantBits());
        }
        return b;
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
