package dev.entente.engine.merge;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;

/** Attribute values are byte strings, ordered as unsigned bytes, the order every node agrees on. */
public final class Values {
    public static final Comparator<ByteString> ORDER = ByteString.unsignedLexicographicalComparator();

    private Values() {
    }

    /** The canonical form of a value collection: sorted, distinct, unmodifiable. */
    public static List<ByteString> canonical(Collection<ByteString> values) {
        if (values.isEmpty()) {
            return List.of();
        }
        if (strictlyIncreasing(values)) {
            // Values decoded from a record or a stored state are canonical already, and a list
            // that is already unmodifiable (List.of, List.copyOf) is not copied again.
            return List.copyOf(values);
        }
        TreeSet<ByteString> sorted = new TreeSet<>(ORDER);
        sorted.addAll(values);
        return Collections.unmodifiableList(new ArrayList<>(sorted));
    }

    private static boolean strictlyIncreasing(Collection<ByteString> values) {
        if (values instanceof List<ByteString> list && values instanceof java.util.RandomAccess) {
            for (int i = 1, n = list.size(); i < n; i++) {
                if (ORDER.compare(list.get(i - 1), list.get(i)) >= 0) {
                    return false;
                }
            }
            return true;
        }
        ByteString previous = null;
        for (ByteString v : values) {
            if (previous != null && ORDER.compare(previous, v) >= 0) {
                return false;
            }
            previous = v;
        }
        return true;
    }

    /** Lexicographic order of two canonical value lists; used only to break exact CID ties. */
    public static int compareLists(List<ByteString> a, List<ByteString> b) {
        int n = Math.min(a.size(), b.size());
        for (int i = 0; i < n; i++) {
            int c = ORDER.compare(a.get(i), b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }
}
