package dev.entente.engine.session;

import dev.entente.engine.ChangeGapException;
import dev.entente.engine.clock.ClockSkewException;
import dev.entente.engine.Engine;
import dev.entente.engine.MalformedChangeException;
import dev.entente.engine.clock.OriginId;
import dev.entente.engine.RefreshRequiredException;
import dev.entente.engine.SupplierLaggingException;
import dev.entente.engine.session.AgreementStatus.State;
import dev.entente.protocol.SessionMessages.Frame;
import java.time.Duration;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;

/**
 * Replication between two engines in one process, with no transport: one consumer agreement and
 * one supplier session (the classes a node runs) joined by links that hand each frame to the
 * other side on the calling thread. The demo, tests and the benchmarks use it.
 */
public final class InProcessReplication {
    private InProcessReplication() {
    }

    /**
     * @param applied records the consumer applied
     * @param batches batches sent
     * @param bytes record bytes sent
     */
    public record PullResult(long applied, long batches, long bytes) {
    }

    /**
     * One incremental pull of {@code consumer} from {@code supplier}, until the consumer covers
     * the supplier's RUV.
     *
     * @throws RefreshRequiredException the consumer must be refreshed (it is then marked so), or
     *     the supplier must be and supplies nobody
     * @throws SupplierLaggingException the supplier found itself stale (and marked itself)
     * @throws ClockSkewException a change is too far in the future; nothing of its batch applied
     * @throws ChangeGapException a batch would have left a gap
     * @throws MalformedChangeException a record could not be applied
     */
    public static PullResult pull(Engine consumer, String consumerName, Engine supplier, String supplierName, int batchRecords) {
        SessionOptions options = options(batchRecords, 4L << 20);
        try (Pair pair = new Pair(consumer, consumerName, supplier, supplierName, options, false)) {
            AgreementStatus s = pair.run(st -> st.state() == State.IDLE || st.state() == State.REFRESH_REQUIRED);
            if (s.state() == State.REFRESH_REQUIRED) {
                throw new RefreshRequiredException(s.lastError());
            }
            return new PullResult(s.changesApplied(), s.batches(), s.bytes());
        }
    }

    /** Replaces {@code consumer}'s content by a snapshot of {@code supplier}'s, and returns the consumer's new origin. */
    public static OriginId refresh(Engine consumer, String consumerName, Engine supplier, String supplierName, long chunkBytes) {
        SessionOptions options = options(1000, chunkBytes);
        try (Pair pair = new Pair(consumer, consumerName, supplier, supplierName, options, true)) {
            // Asked for, as an operator asks: from this supplier, whoever marked the consumer.
            pair.agreement.refreshNow("a refresh from '" + supplierName + "' was asked", new java.util.concurrent.CompletableFuture<>());
            pair.run(st -> st.refreshes() > 0);
            return consumer.originId();
        }
    }

    /** The default timings (a pair never waits on them) with the batch size asked for. */
    private static SessionOptions options(int batchRecords, long batchBytes) {
        SessionOptions d = SessionOptions.DEFAULTS;
        return new SessionOptions(d.credit(), batchRecords, batchBytes, d.helloTimeout(), d.minBackoff(), d.maxBackoff(), d.silenceTimeout());
    }

    /** A consumer agreement and the supplier session it talks to, run on the calling thread. */
    private static final class Pair implements AutoCloseable, Scheduler {
        private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
        private final ConsumerAgreement agreement;
        private final Engine supplier;
        private final String supplierName;
        private final SessionOptions options;
        private SupplierSession session;

        Pair(Engine consumer, String consumerName, Engine supplier, String supplierName, SessionOptions options, boolean automaticRefresh) {
            this.supplier = supplier;
            this.supplierName = supplierName;
            this.options = options;
            AgreementSettings settings = new AgreementSettings(supplierName, "in-process '" + supplierName + "'", Duration.ofDays(1),
                    automaticRefresh, 0);
            // The seed only draws backoff delays, and a pair never waits out a backoff.
            this.agreement = new ConsumerAgreement(settings, consumer, consumerName, options, this, new Random(0), this::connect,
                    SessionEvents.NONE);
        }

        private void connect(long attempt) {
            tasks.add(() -> {
                if (session != null) {
                    session.stop();
                }
                Link toSupplier = new Link() {
                    @Override
                    public void send(Frame frame) {
                        tasks.add(() -> session.receive(frame));
                    }

                    @Override
                    public void close() {
                        tasks.add(session::closed);
                    }
                };
                Link toConsumer = new Link() {
                    @Override
                    public void send(Frame frame) {
                        tasks.add(() -> agreement.receive(attempt, frame));
                    }

                    @Override
                    public void close() {
                        tasks.add(() -> agreement.disconnected(attempt));
                    }
                };
                session = new SupplierSession(supplier, supplierName, "in-process", toConsumer, this, options, new SupplierSession.Events() {
                });
                session.start();
                agreement.connected(attempt, toSupplier);
            });
        }

        /** Runs until the agreement's status satisfies {@code done}; a failed session throws its cause. */
        AgreementStatus run(Predicate<AgreementStatus> done) {
            agreement.start();
            Runnable task;
            while ((task = tasks.poll()) != null) {
                task.run();
                AgreementStatus s = agreement.status();
                if (s.state() == State.BACKOFF) {
                    throw failure(agreement.lastFailure());
                }
                if (done.test(s)) {
                    return s;
                }
            }
            throw new IllegalStateException("the in-process session with '" + supplierName + "' stopped in state " + agreement.status().state());
        }

        private static RuntimeException failure(ConsumerAgreement.Failure f) {
            if (f.cause() != null) {
                return f.cause();
            }
            return switch (f.code()) {
                case REFRESH_REQUIRED, NOT_SERVING -> new RefreshRequiredException(f.reason());
                case SUPPLIER_LAGGING -> new SupplierLaggingException(f.reason());
                default -> new IllegalStateException(f.reason());
            };
        }

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public Timer schedule(long delayMillis, Runnable task) {
            if (delayMillis <= 0) {
                tasks.add(task);
            }
            // Later tasks (intervals, Hello time-outs) never come due: a pair lives for one exchange.
            return () -> { };
        }

        @Override
        public void close() {
            agreement.stop();
            if (session != null) {
                session.stop();
            }
        }
    }
}
