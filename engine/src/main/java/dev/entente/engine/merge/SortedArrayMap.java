package dev.entente.engine.merge;

import java.util.AbstractList;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;

/**
 * An immutable sorted map kept in two arrays, the form of every map in the merge model (the
 * versions of an entry, the attributes of a version, the values of a set, the present values of a
 * resolved entry).
 *
 * <p>Why not a {@code TreeMap} behind {@code Collections.unmodifiableSortedMap}: the model's
 * records copy their maps to keep them immutable, and an entry is built, merged and resolved
 * several times on the commit and apply paths. A copy of a tree is a node per key plus the
 * wrapper, and the trees were a fifth of the bytes those paths allocated; a copy of this map is
 * two arrays, and a map that is already one of these is not copied at all. Maps here hold a few
 * keys (an entry has one version and a handful of attributes), so lookups by binary search cost
 * no more than a tree's.
 *
 * <p>Equality and hash code are those of {@link Map}, so it equals any map with the same entries.
 *
 * @param <K> key type, ordered by the map's comparator (null: the keys' natural order)
 * @param <V> value type
 */
public final class SortedArrayMap<K, V> extends AbstractMap<K, V> implements SortedMap<K, V> {
    private final Comparator<? super K> comparator;
    private final Object[] keys;
    private final Object[] values;

    private SortedArrayMap(Comparator<? super K> comparator, Object[] keys, Object[] values) {
        this.comparator = comparator;
        this.keys = keys;
        this.values = values;
    }

    private static final Object[] NONE = new Object[0];

    public static <K, V> SortedArrayMap<K, V> empty(Comparator<? super K> comparator) {
        return new SortedArrayMap<>(comparator, NONE, NONE);
    }

    public static <K, V> SortedArrayMap<K, V> of(Comparator<? super K> comparator, K key, V value) {
        return new SortedArrayMap<>(comparator, new Object[] {Objects.requireNonNull(key, "key")},
                new Object[] {Objects.requireNonNull(value, "value")});
    }

    /**
     * The map itself when it is one of these with the same comparator; otherwise a sorted copy.
     * Null keys and values are refused, as the model has none.
     */
    @SuppressWarnings("unchecked")
    public static <K, V> SortedArrayMap<K, V> copyOf(Map<? extends K, ? extends V> map, Comparator<? super K> comparator) {
        if (map instanceof SortedArrayMap<?, ?> m && Objects.equals(m.comparator, comparator)) {
            return (SortedArrayMap<K, V>) m;
        }
        Builder<K, V> b = new Builder<>(comparator, map.size());
        for (Map.Entry<? extends K, ? extends V> e : map.entrySet()) {
            b.add(e.getKey(), e.getValue());
        }
        return b.build();
    }

    public static <K, V> Builder<K, V> builder(Comparator<? super K> comparator, int expectedSize) {
        return new Builder<>(comparator, expectedSize);
    }

    /**
     * Collects entries in any order; {@link #build} sorts them unless they came sorted (as they do
     * from the wire, where every writer writes sorted maps). Of equal keys the last one added is
     * kept, as with {@code Map.put}; {@link #duplicate} tells whether there were any.
     */
    public static final class Builder<K, V> {
        private final Comparator<? super K> comparator;
        private Object[] keys;
        private Object[] values;
        private int size;
        private boolean sorted = true;
        private K duplicate;

        private Builder(Comparator<? super K> comparator, int expectedSize) {
            this.comparator = comparator;
            int capacity = Math.max(1, expectedSize);
            this.keys = new Object[capacity];
            this.values = new Object[capacity];
        }

        @SuppressWarnings("unchecked")
        public Builder<K, V> add(K key, V value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (size > 0 && sorted && compare(comparator, (K) keys[size - 1], key) >= 0) {
                sorted = false;
            }
            if (size == keys.length) {
                keys = Arrays.copyOf(keys, 2 * size);
                values = Arrays.copyOf(values, 2 * size);
            }
            keys[size] = key;
            values[size] = value;
            size++;
            return this;
        }

        /** A key that was added more than once, found by {@link #build}; null when none was. */
        public K duplicate() {
            return duplicate;
        }

        @SuppressWarnings("unchecked")
        public SortedArrayMap<K, V> build() {
            if (size == 0) {
                return empty(comparator);
            }
            if (sorted) {
                return new SortedArrayMap<>(comparator, trim(keys, size), trim(values, size));
            }
            // A stable sort of the positions keeps equal keys in the order they were added.
            Integer[] order = new Integer[size];
            for (int i = 0; i < size; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> compare(comparator, (K) keys[a], (K) keys[b]));
            Object[] k = new Object[size];
            Object[] v = new Object[size];
            int n = 0;
            for (int i = 0; i < size; i++) {
                int at = order[i];
                if (n > 0 && compare(comparator, (K) k[n - 1], (K) keys[at]) == 0) {
                    if (duplicate == null) {
                        duplicate = (K) keys[at];
                    }
                    v[n - 1] = values[at];
                    continue;
                }
                k[n] = keys[at];
                v[n] = values[at];
                n++;
            }
            return new SortedArrayMap<>(comparator, trim(k, n), trim(v, n));
        }

        private static Object[] trim(Object[] a, int n) {
            return n == a.length ? a : Arrays.copyOf(a, n);
        }
    }

    @SuppressWarnings("unchecked")
    private static <K> int compare(Comparator<? super K> comparator, K a, K b) {
        return comparator != null ? comparator.compare(a, b) : ((Comparable<? super K>) a).compareTo(b);
    }

    @SuppressWarnings("unchecked")
    private int indexOf(Object key) {
        if (key == null) {
            return -1;
        }
        int lo = 0;
        int hi = keys.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = compare(comparator, (K) keys[mid], (K) key);
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -(lo + 1);
    }

    @Override
    public int size() {
        return keys.length;
    }

    @Override
    public boolean isEmpty() {
        return keys.length == 0;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V get(Object key) {
        int i = indexOf(key);
        return i >= 0 ? (V) values[i] : null;
    }

    @Override
    public boolean containsKey(Object key) {
        return indexOf(key) >= 0;
    }

    @Override
    public Comparator<? super K> comparator() {
        return comparator;
    }

    @Override
    @SuppressWarnings("unchecked")
    public K firstKey() {
        if (keys.length == 0) {
            throw new NoSuchElementException("the map is empty");
        }
        return (K) keys[0];
    }

    @Override
    @SuppressWarnings("unchecked")
    public K lastKey() {
        if (keys.length == 0) {
            throw new NoSuchElementException("the map is empty");
        }
        return (K) keys[keys.length - 1];
    }

    @Override
    public SortedMap<K, V> subMap(K fromKey, K toKey) {
        if (compare(comparator, fromKey, toKey) > 0) {
            throw new IllegalArgumentException("fromKey > toKey");
        }
        return slice(insertionPoint(fromKey), insertionPoint(toKey));
    }

    @Override
    public SortedMap<K, V> headMap(K toKey) {
        return slice(0, insertionPoint(toKey));
    }

    @Override
    public SortedMap<K, V> tailMap(K fromKey) {
        return slice(insertionPoint(fromKey), keys.length);
    }

    /** The index of the first key at or after {@code key}. */
    private int insertionPoint(K key) {
        int i = indexOf(Objects.requireNonNull(key, "key"));
        return i >= 0 ? i : -(i + 1);
    }

    private SortedMap<K, V> slice(int from, int to) {
        return new SortedArrayMap<>(comparator, Arrays.copyOfRange(keys, from, to), Arrays.copyOfRange(values, from, to));
    }

    /** An unmodifiable list over one of the arrays: the keys or the values, in key order. */
    private static <T> List<T> view(Object[] array) {
        return new AbstractList<>() {
            @Override
            @SuppressWarnings("unchecked")
            public T get(int index) {
                return (T) array[index];
            }

            @Override
            public int size() {
                return array.length;
            }
        };
    }

    @Override
    public Set<K> keySet() {
        List<K> list = view(keys);
        return new AbstractSet<>() {
            @Override
            public Iterator<K> iterator() {
                return list.iterator();
            }

            @Override
            public int size() {
                return keys.length;
            }

            @Override
            public boolean contains(Object o) {
                return containsKey(o);
            }
        };
    }

    /** The values in key order, as an unmodifiable list. */
    @Override
    public Collection<V> values() {
        return view(values);
    }

    @Override
    public Set<Map.Entry<K, V>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Map.Entry<K, V>> iterator() {
                return new Iterator<>() {
                    private int next;

                    @Override
                    public boolean hasNext() {
                        return next < keys.length;
                    }

                    @Override
                    @SuppressWarnings("unchecked")
                    public Map.Entry<K, V> next() {
                        if (next >= keys.length) {
                            throw new NoSuchElementException();
                        }
                        int i = next++;
                        return new AbstractMap.SimpleImmutableEntry<>((K) keys[i], (V) values[i]);
                    }
                };
            }

            @Override
            public int size() {
                return keys.length;
            }
        };
    }

    @Override
    public boolean equals(Object o) {
        if (o instanceof SortedArrayMap<?, ?> m && Objects.equals(m.comparator, comparator)) {
            return Arrays.equals(keys, m.keys) && Arrays.equals(values, m.values);
        }
        return super.equals(o);
    }

    @Override
    public int hashCode() {
        int h = 0;
        for (int i = 0; i < keys.length; i++) {
            h += keys[i].hashCode() ^ values[i].hashCode();
        }
        return h;
    }
}
