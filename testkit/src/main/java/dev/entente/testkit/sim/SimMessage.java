package dev.entente.testkit.sim;

import com.google.protobuf.ByteString;
import dev.entente.engine.ChangeBatch;
import dev.entente.engine.Ruv;

/** What the simulated transport carries between nodes: the replication session's messages. */
sealed interface SimMessage {
    int from();

    int to();

    long session();

    record PullRequest(int from, int to, long session, Ruv ruv) implements SimMessage {
    }

    record Batch(int from, int to, long session, int index, ChangeBatch batch) implements SimMessage {
    }

    record End(int from, int to, long session, int batches, Ruv supplierRuv) implements SimMessage {
    }

    record Refused(int from, int to, long session, String code, String reason) implements SimMessage {
    }

    record RefreshRequest(int from, int to, long session) implements SimMessage {
    }

    record Chunk(int from, int to, long session, int index, ByteString bytes, boolean last) implements SimMessage {
    }
}
