package dev.entente.engine.merge;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A set attribute: every value carries its own add and remove marks, so concurrent adds of
 * different values are all kept and a remove only takes away the value it names.
 *
 * <p>A removed value keeps its marks so that an older add arriving late cannot bring it back.
 * Marks of values removed before the reaped horizon are forgotten: a change that old can no
 * longer arrive (a node that far behind must refresh).
 */
public record ValueSet(SortedMap<ByteString, ValueMarks> values) implements AttributeState {

    public ValueSet {
        values = SortedArrayMap.copyOf(values, Values.ORDER);
    }

    @Override
    public List<ByteString> presentValues() {
        List<ByteString> present = new ArrayList<>(values.size());
        for (Map.Entry<ByteString, ValueMarks> e : values.entrySet()) {
            if (e.getValue().present()) {
                present.add(e.getKey());
            }
        }
        return Collections.unmodifiableList(present);
    }

    @Override
    public ValueSet pruneRemovedBefore(long hlc) {
        boolean any = false;
        for (ValueMarks m : values.values()) {
            if (!m.present() && m.removed().hlc() < hlc) {
                any = true;
                break;
            }
        }
        if (!any) {
            return this;
        }
        TreeMap<ByteString, ValueMarks> kept = new TreeMap<>(Values.ORDER);
        values.forEach((v, m) -> {
            if (m.present() || m.removed().hlc() >= hlc) {
                kept.put(v, m);
            }
        });
        return new ValueSet(kept);
    }

    // Written out rather than generated: see Cid.
    @Override
    public boolean equals(Object o) {
        return o instanceof ValueSet x && values.equals(x.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }
}
