package dev.entente.engine.merge;

import com.google.protobuf.ByteString;
import java.util.List;

/**
 * The replicated state of one attribute of one entry version: a {@link Register} (the default,
 * last writer wins on the whole value set) or a {@link ValueSet} (attributes the schema declares
 * as sets: every value resolved on its own).
 */
public sealed interface AttributeState permits Register, ValueSet {

    /** The values present in this state: sorted, distinct. Empty means the attribute is absent. */
    List<ByteString> presentValues();

    /** The state with value-removal markers older than {@code hlc} forgotten (see {@link ValueSet}). */
    AttributeState pruneRemovedBefore(long hlc);
}
