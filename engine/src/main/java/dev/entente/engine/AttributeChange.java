package dev.entente.engine;

import com.google.protobuf.ByteString;
import dev.entente.engine.merge.Values;
import java.util.List;

/**
 * One change to one attribute of an entry. On a register attribute each change rewrites the whole
 * value set under the transaction's CID; on a set attribute only the values named are touched.
 */
public sealed interface AttributeChange {

    String attribute();

    /** Replaces the values. */
    record Set(String attribute, List<ByteString> values) implements AttributeChange {
        public Set {
            Names.checkAttribute(attribute);
            values = Values.canonical(values);
        }
    }

    /** Adds values; values already present stay. */
    record Add(String attribute, List<ByteString> values) implements AttributeChange {
        public Add {
            Names.checkAttribute(attribute);
            values = Values.canonical(values);
        }
    }

    /** Removes values; values not present are ignored. */
    record Remove(String attribute, List<ByteString> values) implements AttributeChange {
        public Remove {
            Names.checkAttribute(attribute);
            values = Values.canonical(values);
        }
    }

    /** Removes every value: the attribute becomes absent. */
    record Clear(String attribute) implements AttributeChange {
        public Clear {
            Names.checkAttribute(attribute);
        }
    }

    static AttributeChange set(String attribute, String... values) {
        return new Set(attribute, Attributes.utf8(List.of(values)));
    }

    static AttributeChange add(String attribute, String... values) {
        return new Add(attribute, Attributes.utf8(List.of(values)));
    }

    static AttributeChange remove(String attribute, String... values) {
        return new Remove(attribute, Attributes.utf8(List.of(values)));
    }

    static AttributeChange clear(String attribute) {
        return new Clear(attribute);
    }
}
