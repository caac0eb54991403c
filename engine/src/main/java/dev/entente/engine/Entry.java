package dev.entente.engine;

import dev.entente.engine.clock.Cid;
import java.util.UUID;

/** A live entry as reads return it: the values present in its resolved state. */
public record Entry(String namespace, UUID id, Cid created, Attributes attributes) {

    /** The first value of an attribute as UTF-8 text, or null when absent. */
    public String text(String attribute) {
        return attributes.text(attribute);
    }
}
