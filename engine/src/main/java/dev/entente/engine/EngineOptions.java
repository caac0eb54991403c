package dev.entente.engine;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * How to open an engine.
 *
 * @param dataDirectory where the store lives; created when missing
 * @param window how long changelog records and tombstones are kept; a consumer further behind
 *     must refresh (default 7 days)
 * @param maxClockSkew how far ahead of the local clock a remote change may be (default 5 minutes)
 * @param wallClock milliseconds since the epoch (injectable for simulation)
 * @param random source of entry and origin ids (injectable for simulation)
 * @param maxValueBytes largest attribute value (default 256 KiB)
 * @param maxTransactionBytes largest change record (default 8 MiB)
 * @param syncWrites fsync the WAL on every commit: survives power loss, not only a killed process
 * @param blockCacheBytes RocksDB block cache
 * @param writeBufferBytes RocksDB memtable size per column family
 * @param validators deterministic entry validators by namespace
 */
public record EngineOptions(Path dataDirectory, Duration window, Duration maxClockSkew, LongSupplier wallClock,
                            RandomGenerator random, int maxValueBytes, int maxTransactionBytes, boolean syncWrites,
                            long blockCacheBytes, long writeBufferBytes, Map<String, EntryValidator> validators) {

    public static final Duration DEFAULT_WINDOW = Duration.ofDays(7);
    public static final Duration DEFAULT_MAX_CLOCK_SKEW = Duration.ofMinutes(5);

    public EngineOptions {
        Objects.requireNonNull(dataDirectory, "dataDirectory");
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("window must be positive, got " + window);
        }
        if (maxClockSkew.isNegative()) {
            throw new IllegalArgumentException("maxClockSkew must not be negative, got " + maxClockSkew);
        }
        if (maxValueBytes <= 0 || maxTransactionBytes <= 0 || maxValueBytes > maxTransactionBytes) {
            throw new IllegalArgumentException("need 0 < maxValueBytes (" + maxValueBytes + ") <= maxTransactionBytes (" + maxTransactionBytes + ")");
        }
        validators = Map.copyOf(validators);
    }

    public static Builder builder(Path dataDirectory) {
        return new Builder(dataDirectory);
    }

    public static final class Builder {
        private final Path dataDirectory;
        private Duration window = DEFAULT_WINDOW;
        private Duration maxClockSkew = DEFAULT_MAX_CLOCK_SKEW;
        private LongSupplier wallClock = System::currentTimeMillis;
        private RandomGenerator random;
        private int maxValueBytes = 256 * 1024;
        private int maxTransactionBytes = 8 * 1024 * 1024;
        private boolean syncWrites;
        private long blockCacheBytes = 64L << 20;
        private long writeBufferBytes = 64L << 20;
        private Map<String, EntryValidator> validators = Map.of();

        private Builder(Path dataDirectory) {
            this.dataDirectory = dataDirectory;
        }

        public Builder window(Duration window) {
            this.window = window;
            return this;
        }

        public Builder maxClockSkew(Duration maxClockSkew) {
            this.maxClockSkew = maxClockSkew;
            return this;
        }

        public Builder wallClock(LongSupplier wallClock) {
            this.wallClock = wallClock;
            return this;
        }

        public Builder random(RandomGenerator random) {
            this.random = random;
            return this;
        }

        public Builder maxValueBytes(int maxValueBytes) {
            this.maxValueBytes = maxValueBytes;
            return this;
        }

        public Builder maxTransactionBytes(int maxTransactionBytes) {
            this.maxTransactionBytes = maxTransactionBytes;
            return this;
        }

        public Builder syncWrites(boolean syncWrites) {
            this.syncWrites = syncWrites;
            return this;
        }

        public Builder blockCacheBytes(long blockCacheBytes) {
            this.blockCacheBytes = blockCacheBytes;
            return this;
        }

        public Builder writeBufferBytes(long writeBufferBytes) {
            this.writeBufferBytes = writeBufferBytes;
            return this;
        }

        public Builder validators(Map<String, EntryValidator> validators) {
            this.validators = validators;
            return this;
        }

        public EngineOptions build() {
            return new EngineOptions(dataDirectory, window, maxClockSkew, wallClock,
                    random == null ? new SecureRandom() : random, maxValueBytes, maxTransactionBytes, syncWrites,
                    blockCacheBytes, writeBufferBytes, validators);
        }
    }
}
