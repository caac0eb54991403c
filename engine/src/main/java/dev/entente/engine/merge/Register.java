package dev.entente.engine.merge;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.Cid;
import java.util.List;
import java.util.Objects;

/**
 * A last-writer-wins register: the write with the higher CID wins whole. An empty value list means
 * the attribute was cleared.
 */
public record Register(Cid cid, List<ByteString> values) implements AttributeState {

    public Register {
        Objects.requireNonNull(cid, "cid");
        values = Values.canonical(values);
    }

    @Override
    public List<ByteString> presentValues() {
        return values;
    }

    @Override
    public AttributeState pruneRemovedBefore(long hlc) {
        return this;
    }

    // Written out rather than generated: see Cid.
    @Override
    public boolean equals(Object o) {
        return o instanceof Register x && cid.equals(x.cid) && values.equals(x.values);
    }

    @Override
    public int hashCode() {
        return cid.hashCode() * 31 + values.hashCode();
    }
}
