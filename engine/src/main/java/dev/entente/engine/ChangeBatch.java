package dev.entente.engine;

import com.google.protobuf.ByteString;
import java.util.List;

/**
 * Changelog records a supplier sends in one go, in CID order, each in its stored wire form.
 *
 * @param bytes the records' total size
 */
public record ChangeBatch(List<ByteString> records, long bytes) {
    public ChangeBatch {
        records = List.copyOf(records);
    }

    public static ChangeBatch of(List<ByteString> records) {
        long bytes = 0;
        for (ByteString r : records) {
            bytes += r.size();
        }
        return new ChangeBatch(records, bytes);
    }
}
