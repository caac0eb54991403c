package dev.entente.engine;

import com.google.protobuf.ByteString;
import dev.entente.engine.merge.Values;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Attribute values of an entry: each attribute a name and a set of byte-string values (UTF-8 for
 * text). Values are kept sorted and distinct; an attribute with no values is left out.
 */
public record Attributes(SortedMap<String, List<ByteString>> values) {

    public static final Attributes EMPTY = new Attributes(new TreeMap<>());

    public Attributes {
        TreeMap<String, List<ByteString>> copy = new TreeMap<>();
        values.forEach((name, v) -> {
            if (!v.isEmpty()) {
                copy.put(Names.checkAttribute(name), Values.canonical(v));
            }
        });
        values = Collections.unmodifiableSortedMap(copy);
        // The map's views are made on first use and kept in it: made now, while the object is
        // new, reading an Attributes that has lived long (a bulk load's input) never writes into
        // it, a write the collector would pay for at every young collection until the views died.
        values.entrySet();
        values.keySet();
        values.values();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code {mail=[a@x], name=[alice]}}: each value as text when it is valid UTF-8, else as hex. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        values.forEach((name, v) -> {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(name).append("=[");
            for (int i = 0; i < v.size(); i++) {
                sb.append(i > 0 ? ", " : "").append(v.get(i).isValidUtf8() ? v.get(i).toStringUtf8() : "0x" + java.util.HexFormat.of().formatHex(v.get(i).toByteArray()));
            }
            sb.append(']');
        });
        return sb.append('}').toString();
    }

    /** A quick way to write text attributes: {@code Attributes.ofText("name", "alice", "mail", "a@x")}. */
    public static Attributes ofText(String... nameValuePairs) {
        if (nameValuePairs.length % 2 != 0) {
            throw new IllegalArgumentException("ofText takes name, value pairs");
        }
        Builder b = builder();
        for (int i = 0; i < nameValuePairs.length; i += 2) {
            b.text(nameValuePairs[i], nameValuePairs[i + 1]);
        }
        return b.build();
    }

    public List<ByteString> get(String name) {
        return values.getOrDefault(name, List.of());
    }

    /** The first value as UTF-8 text, or null when the attribute is absent. */
    public String text(String name) {
        List<ByteString> v = get(name);
        return v.isEmpty() ? null : v.get(0).toStringUtf8();
    }

    /** All values as UTF-8 text. */
    public List<String> texts(String name) {
        List<String> out = new ArrayList<>();
        for (ByteString b : get(name)) {
            out.add(b.toStringUtf8());
        }
        return out;
    }

    public static ByteString utf8(String s) {
        return ByteString.copyFrom(s, StandardCharsets.UTF_8);
    }

    public static List<ByteString> utf8(Collection<String> values) {
        List<ByteString> out = new ArrayList<>(values.size());
        for (String s : values) {
            out.add(utf8(s));
        }
        return out;
    }

    public static final class Builder {
        private final TreeMap<String, List<ByteString>> values = new TreeMap<>();

        public Builder text(String name, String... values) {
            return bytes(name, utf8(List.of(values)));
        }

        public Builder bytes(String name, Collection<ByteString> values) {
            this.values.computeIfAbsent(name, n -> new ArrayList<>()).addAll(values);
            return this;
        }

        public Attributes build() {
            return new Attributes(values);
        }
    }
}
