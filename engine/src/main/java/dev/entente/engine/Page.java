package dev.entente.engine;

import java.util.List;
import java.util.UUID;

/**
 * One page of a listing in entry-id order.
 *
 * @param nextAfter pass as {@code after} to read the next page; null on the last page
 */
public record Page<T>(List<T> items, UUID nextAfter) {
    public Page {
        items = List.copyOf(items);
    }
}
