package dev.entente.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A node's configuration, as loaded and validated by {@link ConfigLoader}.
 *
 * @param name the node's name, shown to peers and in logs
 * @param dataDirectory where the engine keeps its store and the node its identity
 * @param replicationListen where the node serves replication (TLS)
 * @param adminListen where the node serves its REST admin and data API (default 127.0.0.1:7480); null
 *                    for none ({@code admin.listen: off}), and then no token is needed
 * @param adminToken the bearer token of the admin API, read from {@code admin.tokenFile} or given
 *     inline (a secret: redacted on export)
 * @param adminLimits the admin server's connection limit and idle timeout
 * @param consumers the peers this node supplies, each with its pinned certificate
 * @param agreements this node's pulls
 * @param backup where backups go, and their schedule
 */
public record NodeConfig(String name, Path dataDirectory, HostPort replicationListen, HostPort adminListen, Secret adminToken,
                         Path adminTokenFile, AdminLimits adminLimits, List<Peer> consumers, List<AgreementConfig> agreements, EngineSettings engine,
                         BackupSettings backup) {

    public NodeConfig {
        consumers = List.copyOf(consumers);
        agreements = List.copyOf(agreements);
    }

    /**
     * Bounds of the admin server.
     *
     * @param maxConnections connections it holds at once; more are closed as they come
     * @param idleTimeout a connection with no request in progress is closed after this long quiet
     */
    public record AdminLimits(int maxConnections, Duration idleTimeout) {
        public static final AdminLimits DEFAULTS = new AdminLimits(128, Duration.ofSeconds(60));
    }

    /**
     * Backups.
     *
     * @param directory the only directory backups are written to (default {@code backups} in the
     *     data directory); the API names a file in it, never a path
     * @param every take one on this schedule; null for none
     * @param keep keep the newest this many scheduled backups, deleting older ones; 0 keeps all
     */
    public record BackupSettings(Path directory, Duration every, int keep) {
    }

    /** A secret value: its {@code toString} never shows it. */
    public record Secret(String value) {
        @Override
        public String toString() {
            return "<redacted>";
        }
    }

    /**
     * A pinned consumer.
     *
     * @param name the name the consumer must give (its node name)
     * @param certificatePem the peer's certificate, PEM
     * @param certificateSource where it came from (a file, or "inline"), for messages and export
     * @param mutual whether its mutual-pull agreement may ask this node to pull from it too
     */
    public record Peer(String name, String certificatePem, String certificateSource, boolean mutual) {
    }

    public enum Mode { PULL, MUTUAL_PULL }

    public record AgreementConfig(String name, HostPort supplier, String certificatePem, String certificateSource, Mode mode,
                                  Duration interval, boolean automaticRefresh) {
    }

    /**
     * Engine and RocksDB settings.
     *
     * @param stopAfterStoreFailure a standalone node whose store cannot commit this long, for a
     *     cause other than a full disk, stops (exit 75) for its service manager to restart it:
     *     RocksDB clears such errors only when it opens the store again
     */
    public record EngineSettings(Duration window, Duration maxClockSkew, boolean syncWrites, long blockCacheBytes,
                                 long writeBufferBytes, int maxValueBytes, int maxTransactionBytes, Duration stopAfterStoreFailure) {
        public static final EngineSettings DEFAULTS = new EngineSettings(Duration.ofDays(7), Duration.ofMinutes(5), false,
                64L << 20, 64L << 20, 256 << 10, 8 << 20, Duration.ofSeconds(60));
    }
}
