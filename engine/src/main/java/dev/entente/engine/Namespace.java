package dev.entente.engine;

import dev.entente.engine.clock.Cid;

/**
 * A namespace: a named collection of entries with its schema. The definition is replicated as a
 * last-writer-wins register: of two concurrent definitions the one with the higher CID holds.
 */
public record Namespace(String name, Schema schema, Cid cid) {
}
