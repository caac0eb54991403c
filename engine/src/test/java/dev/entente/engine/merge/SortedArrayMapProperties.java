package dev.entente.engine.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SortedMap;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * The model's map behaves as a {@code TreeMap} holding the same puts would: the merge rules were
 * written and tested against sorted maps, so this one must not differ in order, lookup, equality
 * or in which of two equal keys wins.
 */
class SortedArrayMapProperties {

    private record Put(int key, String value) {
    }

    private static List<Put> puts(List<Integer> keys) {
        List<Put> puts = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            puts.add(new Put(keys.get(i), "v" + i));
        }
        return puts;
    }

    @Property(tries = 1000)
    void builtFromAnyOrderEqualsTheTreeMapOfTheSamePutsLastPutWinning(
            @ForAll @Size(max = 20) List<@IntRange(min = -10, max = 10) Integer> keys) {
        TreeMap<Integer, String> tree = new TreeMap<>();
        SortedArrayMap.Builder<Integer, String> b = SortedArrayMap.builder(null, 2);
        boolean repeated = false;
        for (Put p : puts(keys)) {
            repeated |= tree.put(p.key(), p.value()) != null;
            b.add(p.key(), p.value());
        }
        SortedArrayMap<Integer, String> map = b.build();
        assertEquals(tree, map);
        assertEquals(map, tree);
        assertEquals(tree.hashCode(), map.hashCode());
        assertEquals(tree.toString(), map.toString());
        assertEquals(new ArrayList<>(tree.keySet()), new ArrayList<>(map.keySet()));
        assertEquals(new ArrayList<>(tree.values()), new ArrayList<>(map.values()));
        assertEquals(repeated, b.duplicate() != null);
        for (int k = -11; k <= 11; k++) {
            assertEquals(tree.get(k), map.get(k));
            assertEquals(tree.containsKey(k), map.containsKey(k));
            assertEquals(tree.headMap(k), map.headMap(k));
            assertEquals(tree.tailMap(k), map.tailMap(k));
            assertEquals(tree.subMap(-3, k < -3 ? -3 : k), map.subMap(-3, k < -3 ? -3 : k));
        }
        if (!tree.isEmpty()) {
            assertEquals(tree.firstKey(), map.firstKey());
            assertEquals(tree.lastKey(), map.lastKey());
        }
    }

    @Property(tries = 500)
    void aCopyOfASortedMapKeepsItsComparatorsOrder(@ForAll @Size(max = 12) List<@Size(max = 3) List<@IntRange(min = 0, max = 255) Integer>> values) {
        TreeMap<ByteString, Integer> tree = new TreeMap<>(Values.ORDER);
        for (int i = 0; i < values.size(); i++) {
            byte[] bytes = new byte[values.get(i).size()];
            for (int j = 0; j < bytes.length; j++) {
                bytes[j] = (byte) (int) values.get(i).get(j);
            }
            tree.put(ByteString.copyFrom(bytes), i);
        }
        SortedArrayMap<ByteString, Integer> copy = SortedArrayMap.copyOf(tree, Values.ORDER);
        assertEquals(new ArrayList<>(tree.entrySet()), new ArrayList<>(copy.entrySet()));
        assertSame(Values.ORDER, copy.comparator());
        assertSame(copy, SortedArrayMap.copyOf(copy, Values.ORDER), "a map of the same kind and order is not copied");
    }

    @Test
    void isImmutable() {
        SortedMap<String, Integer> map = SortedArrayMap.copyOf(Map.of("a", 1, "b", 2), null);
        assertThrows(UnsupportedOperationException.class, () -> map.put("c", 3));
        assertThrows(UnsupportedOperationException.class, () -> map.remove("a"));
        assertThrows(UnsupportedOperationException.class, () -> map.entrySet().iterator().next().setValue(5));
        assertThrows(UnsupportedOperationException.class, () -> map.values().clear());
        assertThrows(UnsupportedOperationException.class, () -> map.keySet().remove("a"));
        assertEquals(Map.of("a", 1, "b", 2), map);
    }

    @Test
    void emptyHasNoFirstKeyAndRefusesNulls() {
        SortedMap<String, Integer> empty = SortedArrayMap.empty(null);
        assertThrows(NoSuchElementException.class, empty::firstKey);
        assertNull(empty.get("a"));
        assertNull(empty.get(null));
        assertThrows(NullPointerException.class, () -> SortedArrayMap.builder(null, 1).add(null, "x"));
        assertThrows(NullPointerException.class, () -> SortedArrayMap.builder(null, 1).add("x", null));
    }
}
