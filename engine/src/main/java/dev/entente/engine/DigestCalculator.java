package dev.entente.engine;

import com.google.protobuf.ByteString;
import dev.entente.engine.clock.Cid;
import dev.entente.engine.merge.AttributeState;
import dev.entente.engine.merge.EntryState;
import dev.entente.engine.merge.Register;
import dev.entente.engine.merge.ValueMarks;
import dev.entente.engine.merge.ValueSet;
import dev.entente.engine.merge.Version;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;

/**
 * Computes the logical digest of the replicated state from a consistent snapshot. It covers what
 * replication must make equal (namespaces, entry versions with their CIDs and present values,
 * tombstones, conflict flags) and leaves out what is node-local (origin id, changelog, RUV, feed,
 * value-removal marks that each node forgets on its own schedule).
 */
final class DigestCalculator {
    private DigestCalculator() {
    }

    static Digest compute(Store s) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM lacks SHA-256", e);
        }
        long entries = 0;
        long tombstones = 0;
        long conflicts = 0;
        Snapshot snapshot = s.db.getSnapshot();
        try (ReadOptions ro = new ReadOptions().setSnapshot(snapshot).setFillCache(false);
             DataOutputStream out = new DataOutputStream(new DigestOutputStream(OutputStream.nullOutputStream(), sha))) {
            try (RocksIterator it = s.iterator(s.namespaces, ro)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    out.writeByte('N');
                    bytes(out, it.value());
                }
            }
            try (RocksIterator it = s.iterator(s.entries, ro)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    out.writeByte('E');
                    bytes(out, it.key());
                    EntryState state = WireCodec.state(it.value());
                    if (state instanceof EntryState.Tombstone t) {
                        out.writeByte('T');
                        cid(out, t.deleted());
                        tombstones++;
                        continue;
                    }
                    boolean live = false;
                    for (Version v : ((EntryState.Live) state).versions().values()) {
                        out.writeByte('V');
                        cid(out, v.created());
                        if (v.isDiscarded()) {
                            out.writeByte('D');
                            cid(out, v.discarded());
                            continue;
                        }
                        live = true;
                        for (Map.Entry<String, AttributeState> a : v.attributes().entrySet()) {
                            out.writeByte('A');
                            out.writeUTF(a.getKey());
                            if (a.getValue() instanceof Register r) {
                                out.writeByte('R');
                                cid(out, r.cid());
                                out.writeInt(r.values().size());
                                for (ByteString value : r.values()) {
                                    bytes(out, value.toByteArray());
                                }
                            } else {
                                out.writeByte('S');
                                for (Map.Entry<ByteString, ValueMarks> m : ((ValueSet) a.getValue()).values().entrySet()) {
                                    if (m.getValue().present()) {
                                        bytes(out, m.getKey().toByteArray());
                                        cid(out, m.getValue().added());
                                    }
                                }
                                out.writeByte('.');
                            }
                        }
                    }
                    if (live) {
                        entries++;
                    }
                }
            }
            try (RocksIterator it = s.iterator(s.flags, ro)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    out.writeByte('F');
                    bytes(out, it.key());
                    bytes(out, it.value());
                    conflicts++;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            s.db.releaseSnapshot(snapshot);
        }
        return new Digest(HexFormat.of().formatHex(sha.digest()), entries, tombstones, conflicts);
    }

    private static void bytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static void cid(DataOutputStream out, Cid c) throws IOException {
        out.writeLong(c.hlc());
        out.writeLong(c.origin().hi());
        out.writeLong(c.origin().lo());
    }
}
