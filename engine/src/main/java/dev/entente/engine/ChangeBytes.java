package dev.entente.engine;

/**
 * A change together with its changelog-record bytes, and where in those bytes the version of each
 * entry the change creates lies, so that the store can keep that encoding as the entry's state
 * instead of encoding the entry a second time (see {@link WireCodec#storedState}).
 *
 * @param versions for entry {@code i} of the change, {@code versions[2i]} and {@code versions[2i+1]}
 *     are the start and end of its version's content, or -1 when the entry's delta is not a
 *     version created by this very change (a delete, a modify of an older version, a discard)
 */
record ChangeBytes(Change change, byte[] bytes, int[] versions) {

    /** Whether entry {@code i} is a version this change created, whose encoding the store may reuse. */
    boolean reusable(int i) {
        return versions[2 * i] >= 0;
    }

    int versionStart(int i) {
        return versions[2 * i];
    }

    int versionEnd(int i) {
        return versions[2 * i + 1];
    }
}
