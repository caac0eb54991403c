package dev.entente.engine;

import com.google.protobuf.ByteString;
import dev.entente.engine.merge.Values;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Attribute values of an entry: each attribute a name and a set of {@link Value}s (UTF-8 for
 * text). Values are kept sorted and distinct; an attribute with no values is left out. Immutable.
 */
public final class Attributes {

    public static final Attributes EMPTY = new Attributes(new TreeMap<String, List<ByteString>>(), true);

    /** The engine's form: each value as the merge holds it, so reading an entry copies nothing. */
    private final SortedMap<String, List<ByteString>> raw;

    /** Attributes from values by name. */
    public Attributes(java.util.Map<String, ? extends Collection<Value>> values) {
        this(unwrap(values), true);
    }

    private static TreeMap<String, List<ByteString>> unwrap(java.util.Map<String, ? extends Collection<Value>> values) {
        TreeMap<String, List<ByteString>> m = new TreeMap<>();
        values.forEach((name, v) -> m.put(name, unwrap(v)));
        return m;
    }

    /** From the engine's form; {@code check}: names checked and values made canonical (the merge's own are already). */
    Attributes(java.util.Map<String, List<ByteString>> raw, boolean check) {
        TreeMap<String, List<ByteString>> copy = new TreeMap<>();
        raw.forEach((name, v) -> {
            if (!v.isEmpty()) {
                copy.put(check ? Names.checkAttribute(name) : name, check ? Values.canonical(v) : v);
            }
        });
        this.raw = Collections.unmodifiableSortedMap(copy);
        // The map's views are made on first use and kept in it: made now, while the object is
        // new, reading an Attributes that has lived long (a bulk load's input) never writes into
        // it, a write the collector would pay for at every young collection until the views died.
        this.raw.entrySet();
        this.raw.keySet();
        this.raw.values();
    }

    /** The engine's form of the values. */
    SortedMap<String, List<ByteString>> raw() {
        return raw;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code {mail=[a@x], name=[alice]}}: each value as text when it is valid UTF-8, else as hex. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        raw.forEach((name, v) -> {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(name).append("=[");
            for (int i = 0; i < v.size(); i++) {
                sb.append(i > 0 ? ", " : "").append(Value.wrap(v.get(i)));
            }
            sb.append(']');
        });
        return sb.append('}').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Attributes a && raw.equals(a.raw);
    }

    @Override
    public int hashCode() {
        return raw.hashCode();
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

    /** The attributes' names, sorted. */
    public java.util.Set<String> names() {
        return raw.keySet();
    }

    /** Every attribute's values, by name. */
    public SortedMap<String, List<Value>> values() {
        TreeMap<String, List<Value>> m = new TreeMap<>();
        raw.forEach((name, v) -> m.put(name, v.stream().map(Value::wrap).toList()));
        return Collections.unmodifiableSortedMap(m);
    }

    /** An attribute's values, sorted; empty when it is absent. */
    public List<Value> get(String name) {
        return raw.getOrDefault(name, List.of()).stream().map(Value::wrap).toList();
    }

    /** The first value as UTF-8 text, or null when the attribute is absent. */
    public String text(String name) {
        List<ByteString> v = raw.getOrDefault(name, List.of());
        return v.isEmpty() ? null : v.get(0).toStringUtf8();
    }

    /** All values as UTF-8 text. */
    public List<String> texts(String name) {
        List<String> out = new ArrayList<>();
        for (ByteString b : raw.getOrDefault(name, List.of())) {
            out.add(b.toStringUtf8());
        }
        return out;
    }

    /** The size of every value together, in bytes. */
    public long bytes() {
        long n = 0;
        for (List<ByteString> v : raw.values()) {
            for (ByteString b : v) {
                n += b.size();
            }
        }
        return n;
    }

    static List<ByteString> unwrap(Collection<Value> values) {
        List<ByteString> out = new ArrayList<>(values.size());
        for (Value v : values) {
            out.add(v.bytes);
        }
        return out;
    }

    public static final class Builder {
        private final TreeMap<String, List<ByteString>> values = new TreeMap<>();

        public Builder text(String name, String... values) {
            List<ByteString> l = this.values.computeIfAbsent(name, n -> new ArrayList<>());
            for (String v : values) {
                l.add(ByteString.copyFromUtf8(v));
            }
            return this;
        }

        public Builder values(String name, Collection<Value> values) {
            this.values.computeIfAbsent(name, n -> new ArrayList<>()).addAll(unwrap(values));
            return this;
        }

        /** Binary values (each copied). */
        public Builder bytes(String name, byte[]... values) {
            List<ByteString> l = this.values.computeIfAbsent(name, n -> new ArrayList<>());
            for (byte[] v : values) {
                l.add(ByteString.copyFrom(v));
            }
            return this;
        }

        public Attributes build() {
            return new Attributes(values, true);
        }
    }
}
