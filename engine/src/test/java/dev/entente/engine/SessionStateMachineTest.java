package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.engine.session.AgreementSettings;
import dev.entente.engine.session.AgreementStatus;
import dev.entente.engine.session.Backoff;
import dev.entente.engine.session.ConsumerAgreement;
import dev.entente.engine.session.Frames;
import dev.entente.engine.session.Link;
import dev.entente.engine.session.Scheduler;
import dev.entente.engine.session.SessionEvents;
import dev.entente.engine.session.SessionOptions;
import dev.entente.engine.session.SupplierSession;
import dev.entente.protocol.SessionMessages;
import dev.entente.protocol.SessionMessages.Frame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The session's state machines on real engines, with a manual clock and hand-driven frames: b's
 * agreement pulls from a's supplier session, or from a scripted supplier that misbehaves.
 */
class SessionStateMachineTest extends TwoNodes {
    private static final SessionOptions OPTIONS = new SessionOptions(2, 1, 1 << 20, Duration.ofSeconds(2), Duration.ofMillis(100),
            Duration.ofSeconds(3), Duration.ofSeconds(1));

    /** A manual clock and timer queue: the test says when time passes. */
    private static final class ManualScheduler implements Scheduler {
        private record Due(long at, long seq, Runnable task, boolean[] cancelled) {
        }

        private final PriorityQueue<Due> due = new PriorityQueue<>((x, y) -> x.at != y.at ? Long.compare(x.at, y.at) : Long.compare(x.seq, y.seq));
        private long nowMillis;
        private long seq;

        @Override
        public long nanoTime() {
            return nowMillis * 1_000_000L;
        }

        @Override
        public Timer schedule(long delayMillis, Runnable task) {
            boolean[] cancelled = new boolean[1];
            due.add(new Due(nowMillis + delayMillis, seq++, task, cancelled));
            return () -> cancelled[0] = true;
        }

        /** Runs what is due up to {@code millis} from now, in time order. */
        void advance(long millis) {
            long until = nowMillis + millis;
            while (!due.isEmpty() && due.peek().at <= until) {
                Due d = due.poll();
                nowMillis = Math.max(nowMillis, d.at);
                if (!d.cancelled[0]) {
                    d.task.run();
                }
            }
            nowMillis = until;
        }
    }

    /** A link that keeps what was sent, for a scripted peer. */
    private static final class RecordingLink implements Link {
        final List<Frame> sent = new ArrayList<>();
        boolean closed;

        @Override
        public void send(Frame frame) {
            sent.add(frame);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private final ManualScheduler clock = new ManualScheduler();
    private long attempts;

    private ConsumerAgreement agreement(boolean automaticRefresh) {
        return new ConsumerAgreement(new AgreementSettings("b<-a", "a", Duration.ofMillis(500), automaticRefresh, 0), b, "b", OPTIONS, clock,
                new Random(1), attempt -> attempts = attempt, SessionEvents.NONE);
    }

    /** Connects {@code agreement} to a real supplier session on a, frames handed over through the clock's queue. */
    private SupplierSession connectToA(ConsumerAgreement agreement) {
        SupplierSession[] session = new SupplierSession[1];
        long attempt = attempts;
        Link toConsumer = new Link() {
            @Override
            public void send(Frame f) {
                clock.schedule(0, () -> agreement.receive(attempt, f));
            }

            @Override
            public void close() {
                clock.schedule(0, () -> agreement.disconnected(attempt));
            }
        };
        session[0] = new SupplierSession(a, "a", "test", toConsumer, clock, OPTIONS, new SupplierSession.Events() {
        });
        session[0].start();
        agreement.connected(attempt, new Link() {
            @Override
            public void send(Frame f) {
                clock.schedule(0, () -> session[0].receive(f));
            }

            @Override
            public void close() {
                clock.schedule(0, session[0]::closed);
            }
        });
        return session[0];
    }

    @Test
    void backoffDelaysStayInTheUpperHalfOfAStepThatDoublesToItsMaximumAndResets() {
        Backoff backoff = new Backoff(100, 1000, new Random(7));
        long[] steps = {100, 200, 400, 800, 1000, 1000};
        for (long step : steps) {
            long delay = backoff.next();
            assertTrue(delay >= step / 2 && delay <= step, "delay " + delay + " for step " + step);
        }
        backoff.reset();
        assertTrue(backoff.next() <= 100);
    }

    @Test
    void aPullCompletesAndTheAgreementIdlesUntilItsInterval() {
        a.create("people", Attributes.ofText("name", "x"));
        ConsumerAgreement ag = agreement(true);
        ag.start();
        connectToA(ag);
        clock.advance(0);
        assertEquals(AgreementStatus.State.IDLE, ag.state());
        assertEquals(a.digest(), b.digest());
        assertEquals(1, ag.status().pulls());
        a.create("people", Attributes.ofText("name", "y"));
        clock.advance(10);
        // The following session announced the commit: the agreement pulled at once, not at its interval.
        assertEquals(a.digest(), b.digest());
    }

    /** A supplier session of a, holding {@code changes} new entries, past b's Hello. */
    private SupplierSession servingB(int changes, RecordingLink toConsumer) {
        for (int i = 0; i < changes; i++) {
            a.create("people", Attributes.ofText("name", "c" + i));
        }
        SupplierSession session = new SupplierSession(a, "a", "test", toConsumer, clock, OPTIONS, new SupplierSession.Events() {
        });
        session.start();
        session.receive(Frames.hello("b", b.originId(), b.domainId(), false));
        return session;
    }

    @Test
    void aConsumerThatKeepsGrantingCreditIsNeverCutHoweverLongTheStreamRuns() {
        RecordingLink toConsumer = new RecordingLink();
        SupplierSession session = servingB(12, toConsumer);
        session.receive(Frames.pull(b.ruv(), OPTIONS));
        long step = OPTIONS.silenceTimeout().toMillis() / 3;
        for (int i = 0; i < 8; i++) {
            clock.advance(step);
            assertEquals(SupplierSession.State.STREAMING, session.state(), "still streaming after " + (i + 1) * step + " ms");
            session.receive(Frames.credit(1));
        }
        assertEquals(10, toConsumer.sent.stream().filter(Frame::hasBatch).count());
    }

    @Test
    void aSupplierSendsNoMoreBatchesThanTheConsumerHasGranted() {
        RecordingLink toConsumer = new RecordingLink();
        SupplierSession session = servingB(5, toConsumer);
        session.receive(Frames.pull(b.ruv(), OPTIONS));
        assertEquals(2, toConsumer.sent.stream().filter(Frame::hasBatch).count(), "credit 2: two batches of one record, then it waits");
        assertEquals(0, session.credit());
        session.receive(Frames.credit(1));
        assertEquals(3, toConsumer.sent.stream().filter(Frame::hasBatch).count());
        session.receive(Frames.credit(1));
        session.receive(Frames.credit(1));
        assertEquals(5, toConsumer.sent.stream().filter(Frame::hasBatch).count());
        session.receive(Frames.credit(1));
        assertTrue(toConsumer.sent.get(toConsumer.sent.size() - 1).hasEnd());
        assertEquals(SupplierSession.State.READY, session.state());
        session.stop();
        assertTrue(toConsumer.closed);
    }

    @Test
    void whatAConsumerAsksIsClampedToTheSuppliersOwnLimitsAndOverGrantingCreditEndsTheSession() {
        RecordingLink toConsumer = new RecordingLink();
        SupplierSession session = servingB(6, toConsumer);
        session.receive(Frame.newBuilder().setPull(dev.entente.protocol.SessionMessages.PullRequest.newBuilder().setRuv(b.ruv().toWire())
                .setCredit(Integer.MAX_VALUE).setMaxBatchRecords(Integer.MAX_VALUE).setMaxBatchBytes(Long.MAX_VALUE)).build());
        List<Frame> batches = toConsumer.sent.stream().filter(Frame::hasBatch).toList();
        assertEquals(OPTIONS.credit(), batches.size(), "credit clamped to the supplier's own");
        assertTrue(batches.stream().allMatch(f -> f.getBatch().getRecordsCount() <= OPTIONS.batchRecords()), "batch size clamped too");
        session.receive(Frames.credit(Integer.MAX_VALUE));
        Frame last = toConsumer.sent.get(toConsumer.sent.size() - 1);
        assertEquals(dev.entente.protocol.SessionMessages.Error.Code.UNEXPECTED_MESSAGE, last.getError().getCode(), last.toString());
        assertEquals(SupplierSession.State.CLOSED, session.state());
        assertTrue(toConsumer.closed);
    }

    @Test
    void aConsumerThatStopsGrantingCreditIsCutAfterTheSilenceTimeout() {
        RecordingLink toConsumer = new RecordingLink();
        SupplierSession session = servingB(4, toConsumer);
        session.receive(Frames.pull(b.ruv(), OPTIONS));
        assertEquals(SupplierSession.State.STREAMING, session.state());
        clock.advance(OPTIONS.silenceTimeout().toMillis() - 1);
        assertEquals(SupplierSession.State.STREAMING, session.state(), "not before the timeout");
        clock.advance(2);
        assertEquals(SupplierSession.State.CLOSED, session.state(), "the snapshot and iterators it held are released");
        assertTrue(toConsumer.closed);
    }

    @Test
    void aHelloWhoseNameDiffersFromTheAuthenticatedPinIsRefused() {
        RecordingLink toConsumer = new RecordingLink();
        SupplierSession session = new SupplierSession(a, "a", "test", "b", toConsumer, clock, OPTIONS, new SupplierSession.Events() {
        });
        session.start();
        session.receive(Frames.hello("a", b.originId(), b.domainId(), false));
        Frame f = toConsumer.sent.get(0);
        assertEquals(dev.entente.protocol.SessionMessages.Error.Code.NOT_AUTHORIZED, f.getError().getCode());
        assertTrue(f.getError().getMessage().contains("pinned here as 'b'") && f.getError().getMessage().contains("says it is a"),
                f.getError().getMessage());
        RecordingLink forged = new RecordingLink();
        SupplierSession other = new SupplierSession(a, "a", "test", (String) null, forged, clock, OPTIONS,
                new SupplierSession.Events() {
                });
        other.start();
        other.receive(Frames.hello("b\nINFO forged line", b.originId(), b.domainId(), false));
        String m = forged.sent.get(0).getError().getMessage();
        assertTrue(m.contains("not a node name") && !m.contains("\n"), m);
    }

    @Test
    void aSupplierThatGoesSilentIsLeftAfterTheSilenceTimeout() {
        ConsumerAgreement ag = agreement(true);
        ag.start();
        RecordingLink toSupplier = new RecordingLink();
        ag.connected(attempts, toSupplier);
        ag.receive(attempts, Frames.hello("a", a.originId(), a.domainId(), false));
        assertEquals(AgreementStatus.State.PULLING, ag.state());
        clock.advance(999);
        assertEquals(AgreementStatus.State.PULLING, ag.state());
        clock.advance(2);
        assertEquals(AgreementStatus.State.BACKOFF, ag.state());
        assertTrue(toSupplier.closed);
        assertTrue(ag.status().lastError().contains("sent nothing for 1000 ms"), ag.status().lastError());
        long before = attempts;
        clock.advance(200);
        assertEquals(before + 1, attempts, "it connects again after the backoff");
    }

    @Test
    void aBatchTooFarInTheFutureIsRefusedWithClockSkewNotChangeGap() {
        nodes.now.addAndGet(Duration.ofMinutes(10).toMillis());
        a.create("people", Attributes.ofText("name", "future"));
        nodes.now.addAndGet(-Duration.ofMinutes(10).toMillis());
        ConsumerAgreement ag = agreement(true);
        ag.start();
        RecordingLink toSupplier = new RecordingLink();
        ag.connected(attempts, toSupplier);
        ag.receive(attempts, Frames.hello("a", a.originId(), a.domainId(), false));
        try (ChangeStream s = a.supplyChanges(b.ruv(), "b")) {
            ag.receive(attempts, Frame.newBuilder().setBatch(SessionMessages.Batch.newBuilder().addAllRecords(s.next(10, 1 << 20).records())).build());
        }
        Frame last = toSupplier.sent.get(toSupplier.sent.size() - 1);
        assertEquals(SessionMessages.Error.Code.CLOCK_SKEW, last.getError().getCode());
        assertEquals(SessionMessages.Error.Code.CLOCK_SKEW, ag.lastFailure().code());
        assertEquals(AgreementStatus.State.BACKOFF, ag.state());
    }

    @Test
    void anOperatorRefreshIsAnsweredOnceDoneWithNoStaleErrorAndTheAgreementNoLongerRefreshing() throws Exception {
        ConsumerAgreement ag = agreement(false);
        ag.start();
        connectToA(ag);
        clock.advance(0);
        CompletableFuture<AgreementStatus> done = new CompletableFuture<>();
        ag.refreshNow("an operator asked", done);
        clock.advance(0);
        AgreementStatus s = done.get();
        assertEquals(1, s.refreshes());
        assertNull(s.lastError());
        assertTrue(s.state() != AgreementStatus.State.REFRESHING, "state " + s.state());
        assertTrue(b.refreshRequired().isEmpty());
    }

    @Test
    void anOperatorRefreshFromASupplierThatServesNobodyTakesItsMarkBackAndLeavesTheNodeWritable() throws Exception {
        ConsumerAgreement ag = agreement(false);
        ag.start();
        connectToA(ag);
        clock.advance(0);
        // The supplier was marked meanwhile, say on this node's own word in a verdict that
        // crossed the operator's choice: it serves nobody.
        a.markRefreshRequired("supplier 'b' says a lags");
        CompletableFuture<AgreementStatus> done = new CompletableFuture<>();
        ag.refreshNow("an operator chose a's side", done);
        assertEquals(java.util.Optional.of("an operator chose a's side"), b.refreshRequired());
        clock.advance(0);
        AgreementStatus s = done.get();
        assertEquals(0, s.refreshes());
        assertEquals(SessionMessages.Error.Code.NOT_SERVING, ag.lastFailure().code());
        assertTrue(s.lastError().contains("did not begin") && s.lastError().contains("NOT_SERVING"), s.lastError());
        assertTrue(b.refreshRequired().isEmpty(), "b is not left marked, waiting for a supplier that serves nobody");
        b.create("people", Attributes.ofText("name", "written after the refused refresh"));
    }

    @Test
    void aMarkTheOperatorDidNotSetStaysWhenTheSupplierServesNobody() throws Exception {
        ConsumerAgreement ag = agreement(false);
        ag.start();
        connectToA(ag);
        clock.advance(0);
        a.markRefreshRequired("a lags");
        b.markRefreshRequired("b lags too");
        CompletableFuture<AgreementStatus> done = new CompletableFuture<>();
        ag.refreshNow("an operator asked", done);
        clock.advance(0);
        done.get();
        assertEquals(java.util.Optional.of("b lags too"), b.refreshRequired(), "only the operator's own mark is taken back");
    }

    @Test
    void aNodeMarkedForRefreshMeanwhileRefreshesAtItsNextIntervalInsteadOfPulling() {
        ConsumerAgreement ag = agreement(true);
        ag.start();
        connectToA(ag);
        clock.advance(0);
        assertEquals(AgreementStatus.State.IDLE, ag.state());
        // Marked by another path (its supplier side found itself stale), while this agreement idles.
        b.markRefreshRequired("a consumer has trimmed changes this node never received");
        clock.advance(600);
        assertEquals(1, ag.status().refreshes(), "the interval's turn refreshed instead of pulling");
        assertTrue(b.refreshRequired().isEmpty());
    }

    @Test
    void aRefreshInProgressReportsRecordsAndBytesAgainstTheSuppliersEstimateAndTheTimeLeft() {
        for (int i = 0; i < 300; i++) {
            a.create("people", Attributes.ofText("name", "p" + i));
        }
        b.markRefreshRequired("joining");
        ConsumerAgreement ag = agreement(true);
        ag.start();
        RecordingLink toSupplier = new RecordingLink();
        ag.connected(attempts, toSupplier);
        ag.receive(attempts, Frames.hello("a", a.originId(), a.domainId(), false));
        assertEquals(AgreementStatus.State.REFRESHING, ag.state(), "a joining node asks for a refresh at once");
        assertTrue(toSupplier.sent.get(toSupplier.sent.size() - 1).hasRefresh());
        assertEquals(0, ag.status().refresh().done());
        long sent = 0;
        try (SnapshotExport x = a.exportSnapshot("b")) {
            for (int i = 0; i < 4; i++) {
                com.google.protobuf.ByteString chunk = x.nextChunk(4096);
                ag.receive(attempts, Frame.newBuilder().setChunk(SessionMessages.RefreshChunk.newBuilder().setChunk(chunk)).build());
                sent += chunk.size();
            }
            clock.advance(500); // within the silence timeout
            AgreementStatus s = ag.status();
            assertEquals(AgreementStatus.State.REFRESHING, s.state(), s.lastError());
            Progress p = s.refresh();
            assertEquals("records", p.unit());
            assertEquals(sent, p.bytes());
            // 300 entries and 300 changelog records (and the namespace's own), as RocksDB estimates them
            assertTrue(p.total() >= 500 && p.total() <= 800, "estimate " + p.total());
            assertTrue(p.done() > 0 && p.done() < p.total(), p.toString());
            assertEquals(Duration.ofMillis(500), p.elapsed());
            assertEquals(2.0 * p.done(), p.perSecond(), 1e-9);
            assertEquals((long) Math.ceil((p.total() - p.done()) / (2.0 * p.done())), p.secondsLeft().getAsLong());
        }
        ag.disconnected(attempts);
        assertNull(ag.status().refresh(), "a refresh cut off shows no progress (state " + ag.state() + ")");
    }
}
