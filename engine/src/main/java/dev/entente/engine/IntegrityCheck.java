package dev.entente.engine;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.entente.engine.clock.OriginId;
import dev.entente.protocol.Wire;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;

/**
 * Verifies the RUV invariant against the changelog, from a consistent snapshot: per origin, the
 * records chain by {@code prev_hlc} from the RUV's {@code trimmed} to its {@code max}.
 */
final class IntegrityCheck {
    private IntegrityCheck() {
    }

    static List<String> run(Store s, long clock) {
        List<String> problems = new ArrayList<>();
        Snapshot snapshot;
        Ruv ruv;
        // The RUV and the snapshot must agree: both are only changed under the commit lock, and a
        // commit publishes the RUV after its write, so read the RUV, then snapshot, then check
        // that the RUV did not move.
        do {
            ruv = s.ruv;
            snapshot = s.db.getSnapshot();
            if (ruv == s.ruv) {
                break;
            }
            s.db.releaseSnapshot(snapshot);
        } while (true);
        java.util.Set<OriginId> seen = new java.util.HashSet<>();
        try (ReadOptions ro = new ReadOptions().setSnapshot(snapshot); RocksIterator it = s.iterator(s.changelog, ro)) {
            OriginId current = null;
            long previous = 0;
            it.seekToFirst();
            while (true) {
                OriginId origin = it.isValid() ? Keys.changeOrigin(it.key()) : null;
                if (current != null && !current.equals(origin)) {
                    if (previous != ruv.max(current)) {
                        problems.add("origin " + current + ": last record is " + previous + " but the RUV max is " + ruv.max(current));
                    }
                }
                if (origin == null) {
                    break;
                }
                long hlc = Keys.changeHlc(it.key());
                if (!origin.equals(current)) {
                    current = origin;
                    seen.add(origin);
                    if (!ruv.origins().containsKey(origin)) {
                        problems.add("origin " + origin + " has changelog records but is not in the RUV");
                    }
                    previous = ruv.trimmed(origin);
                }
                long prev;
                try {
                    prev = Wire.ChangeRecord.parseFrom(it.value()).getPrevHlc();
                } catch (InvalidProtocolBufferException e) {
                    problems.add("record " + hlc + " of origin " + origin + " cannot be decoded: " + e.getMessage());
                    prev = -1;
                }
                if (prev != previous) {
                    problems.add("origin " + origin + ": record " + hlc + " follows " + prev + " but the changelog's previous is " + previous);
                }
                previous = hlc;
                it.next();
            }
        } finally {
            s.db.releaseSnapshot(snapshot);
        }
        for (var e : ruv.origins().entrySet()) {
            // Origins with no record left must have been trimmed up to their max.
            if (!seen.contains(e.getKey()) && e.getValue().trimmed() != e.getValue().max()) {
                problems.add("origin " + e.getKey() + " has no records but the RUV says trimmed " + e.getValue().trimmed() + ", max " + e.getValue().max());
            }
        }
        if (clock < ruv.maxHlc()) {
            problems.add("the clock " + clock + " is behind the newest applied change " + ruv.maxHlc());
        }
        return problems;
    }

}
