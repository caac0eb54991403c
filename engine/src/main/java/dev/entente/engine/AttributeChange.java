package dev.entente.engine;

import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * One change to one attribute of an entry. On a register attribute each change rewrites the whole
 * value set under the transaction's CID; on a set attribute only the values named are touched.
 */
public sealed interface AttributeChange {

    String attribute();

    /** Replaces the values. */
    record Set(String attribute, List<Value> values) implements AttributeChange {
        public Set {
            Names.checkAttribute(attribute);
            values = canonical(values);
        }
    }

    /** Adds values; values already present stay. */
    record Add(String attribute, List<Value> values) implements AttributeChange {
        public Add {
            Names.checkAttribute(attribute);
            values = canonical(values);
        }
    }

    /** Removes values; values not present are ignored. */
    record Remove(String attribute, List<Value> values) implements AttributeChange {
        public Remove {
            Names.checkAttribute(attribute);
            values = canonical(values);
        }
    }

    /** Removes every value: the attribute becomes absent. */
    record Clear(String attribute) implements AttributeChange {
        public Clear {
            Names.checkAttribute(attribute);
        }
    }

    static AttributeChange set(String attribute, String... values) {
        return new Set(attribute, texts(values));
    }

    static AttributeChange add(String attribute, String... values) {
        return new Add(attribute, texts(values));
    }

    static AttributeChange remove(String attribute, String... values) {
        return new Remove(attribute, texts(values));
    }

    private static List<Value> texts(String... values) {
        return java.util.Arrays.stream(values).map(Value::of).toList();
    }

    /** Sorted and distinct, as every node keeps an attribute's values. */
    private static List<Value> canonical(Collection<Value> values) {
        return List.copyOf(new TreeSet<>(values));
    }

    static AttributeChange clear(String attribute) {
        return new Clear(attribute);
    }
}
