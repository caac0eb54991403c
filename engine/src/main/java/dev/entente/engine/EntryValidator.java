package dev.entente.engine;

import java.util.Optional;

/**
 * A deterministic check of entries in a namespace, registered by an embedding server. A local
 * write producing an entry it rejects is refused; a merged entry it rejects is marked conflicted.
 * Every node must run the same validator, or their conflict flags will differ.
 */
@FunctionalInterface
public interface EntryValidator {
    /** What is wrong with the entry, or empty when it is valid. */
    Optional<String> problem(Entry entry);
}
