package dev.entente.engine.session;

import com.google.protobuf.ByteString;
import dev.entente.engine.ChangeBatch;
import dev.entente.engine.ChangeStream;
import dev.entente.engine.Engine;
import dev.entente.engine.ImplausibleClaimException;
import dev.entente.engine.LaggingRule;
import dev.entente.engine.RefreshRequiredException;
import dev.entente.engine.Ruv;
import dev.entente.engine.SnapshotExport;
import dev.entente.engine.SplitException;
import dev.entente.engine.SupplierLaggingException;
import dev.entente.protocol.FrameException;
import dev.entente.protocol.Ids;
import dev.entente.protocol.PeerText;
import dev.entente.protocol.ProtocolVersion;
import dev.entente.protocol.SessionMessages;
import dev.entente.protocol.SessionMessages.Error.Code;
import dev.entente.protocol.SessionMessages.Frame;
import java.util.UUID;

/**
 * The supplier side of one consumer's connection, as a state machine with no I/O: it answers the
 * consumer's Hello, then serves pull and refresh requests, sending batches or snapshot chunks
 * only as far as the consumer's credit allows, and tells a following consumer when new changes
 * are committed. Frames and connection events come in; frames go out through its {@link Link}.
 * One thread at a time calls it (see {@link Scheduler}).
 *
 * <pre>
 *   HELLO --Hello ok--> READY --PullRequest--> STREAMING --stream ends: EndOfStream--> READY
 *                         |  \--RefreshRequest--> REFRESHING --snapshot ends: EndOfStream--> READY
 *                         \--(idle, following) a commit: ChangesAvailable, once per idle period
 *   any state --refusal, Error, lost connection, stop--> CLOSED
 * </pre>
 */
public final class SupplierSession {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SupplierSession.class);

    /** Where the session is; see the class comment. */
    public enum State { HELLO, READY, STREAMING, REFRESHING, CLOSED }

    /** What a supplier session asks of its node beyond frames. */
    public interface Events extends SessionEvents {
        /** A member consumer with a mutual-pull agreement asks this node to pull from it, at {@code port} of its address. */
        default void mutualPullRequested(String consumer, int port) {
        }

        /** A pull of this consumer's ended: everything it asked for was sent. */
        default void served(String consumer) {
        }
    }

    private final Engine engine;
    private final String nodeName;
    private final String peerAddress;
    private final Link link;
    private final Scheduler scheduler;
    private final SessionOptions options;
    private final Events events;
    /** The configured name of the consumer whose key the transport authenticated; null when none did. */
    private final String authenticated;
    private State state = State.HELLO;
    private String consumer;
    private boolean joining;
    private int mutualPort;
    private ChangeStream stream;
    private SnapshotExport export;
    private int credit;
    private int batchRecords;
    private long batchBytes;
    private boolean following;
    private boolean notified;
    private AutoCloseable commitListener;
    private Scheduler.Timer helloTimer;
    /** Runs while the supplier waits for credit: a consumer that stops granting it is cut. */
    private Scheduler.Timer creditTimer;
    /** When the stream last moved (a batch or chunk sent, or the stream began), for {@link #creditTimer}. */
    private long movedNanos;

    /**
     * A session whose consumer is whoever its Hello names (in-process replication and the
     * simulator, where no transport authenticates): the name must still look like a node name.
     *
     * @param peerAddress how logs name the connection before the consumer says who it is
     */
    public SupplierSession(Engine engine, String nodeName, String peerAddress, Link link, Scheduler scheduler, SessionOptions options,
                           Events events) {
        this(engine, nodeName, peerAddress, null, link, scheduler, options, events);
    }

    /**
     * @param authenticated the configured name of the consumer whose pinned key the transport
     *     authenticated: its Hello must give that name, and logs, contacts and refusals use it
     */
    public SupplierSession(Engine engine, String nodeName, String peerAddress, String authenticated, Link link, Scheduler scheduler,
                           SessionOptions options, Events events) {
        this.authenticated = authenticated;
        this.consumer = authenticated != null ? authenticated : "?";
        this.engine = engine;
        this.nodeName = nodeName;
        this.peerAddress = peerAddress;
        this.link = link;
        this.scheduler = scheduler;
        this.options = options;
        this.events = events;
    }

    /** The connection is up: a consumer that never says Hello is refused once the Hello time is up. */
    public void start() {
        helloTimer = scheduler.schedule(options.helloTimeout().toMillis(), () -> {
            if (state == State.HELLO) {
                refuse(Code.UNEXPECTED_MESSAGE, "no Hello within " + options.helloTimeout().toMillis() + " ms of connecting");
            }
        });
    }

    public State state() {
        return state;
    }

    /** Batches or chunks the supplier may still send before the consumer grants more. */
    public int credit() {
        return credit;
    }

    /** The name the consumer gave in its Hello ("?" before). */
    public String consumer() {
        return consumer;
    }

    /** A frame from the consumer. */
    public void receive(Frame f) {
        if (state == State.CLOSED) {
            return;
        }
        try {
            switch (f.getBodyCase()) {
                case HELLO -> hello(f.getHello());
                case PULL -> pull(f.getPull());
                case REFRESH -> refresh(f.getRefresh());
                case CREDIT -> credit(f.getCredit().getBatches());
                case ERROR -> {
                    LOG.warn("consumer '" + consumer + "' ended the session: " + f.getError().getCode() + ": "
                            + PeerText.message(f.getError().getMessage()));
                    link.close();
                    close();
                }
                default -> refuse(Code.UNEXPECTED_MESSAGE, "a supplier does not expect " + f.getBodyCase() + " from a consumer");
            }
        } catch (FrameException e) {
            refuse(e.code(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("serving consumer '" + consumer + "' failed: " + e, e);
            refuse(Code.INTERNAL, "the supplier failed: " + e.getMessage());
        }
    }

    /** The transport could not read a frame from the consumer (too large, not a frame). */
    public void malformed(Code code, String message) {
        if (state != State.CLOSED) {
            refuse(code, "from consumer '" + consumer + "': " + message);
        }
    }

    /** The connection is gone. */
    public void closed() {
        close();
    }

    /** The node stops: close the connection and the session. */
    public void stop() {
        link.close();
        close();
    }

    private void hello(SessionMessages.Hello h) {
        if (state != State.HELLO) {
            refuse(Code.UNEXPECTED_MESSAGE, "a second Hello");
            return;
        }
        cancelHelloTimer();
        String said = h.getNodeName();
        if (authenticated != null && !authenticated.equals(said)) {
            refuse(Code.NOT_AUTHORIZED, "the consumer holding the key pinned here as '" + authenticated + "' says it is " + PeerText.name(said)
                    + ": a consumer must give the name it is pinned under (if that is its real name, fix the pin's name in this node's"
                    + " configuration)");
            return;
        }
        if (!PeerText.isNodeName(said)) {
            refuse(Code.NOT_AUTHORIZED, "the consumer's Hello gives " + PeerText.name(said) + ", which is not a node name (1-64 letters,"
                    + " digits, _ . -)");
            return;
        }
        consumer = said;
        if (h.getProtocolVersion() != ProtocolVersion.CURRENT) {
            refuse(Code.PROTOCOL_VERSION, "consumer '" + consumer + "' speaks protocol version " + h.getProtocolVersion()
                    + " but supplier '" + nodeName + "' speaks version " + ProtocolVersion.CURRENT + ": run the same Entente version on both");
            return;
        }
        joining = h.getJoining();
        if (engine.refreshRequired().isPresent()) {
            // Checked before the domain: a joining node has no domain yet.
            String reason = "supplier '" + nodeName + "' must be refreshed itself and supplies nobody: " + engine.refreshRequired().get();
            link.send(Frames.error(Code.NOT_SERVING, reason));
            link.close();
            close();
            return;
        }
        UUID domain = Ids.of(h.getDomainId());
        if (!joining && !engine.domainId().equals(domain)) {
            refuse(Code.DOMAIN_MISMATCH, "consumer '" + consumer + "' is in domain " + domain + " but supplier '" + nodeName
                    + "' is in domain " + engine.domainId() + ": nodes of different domains never replicate; join this domain by refreshing");
            return;
        }
        state = State.READY;
        if (h.getOriginId().size() == 16 && !joining) {
            events.peerOrigin(consumer, dev.entente.engine.clock.OriginId.fromBytes(h.getOriginId().toByteArray()));
        }
        link.send(Frames.hello(nodeName, engine.originId(), engine.domainId(), false));
        LOG.info("consumer '" + consumer + "' connected" + (joining ? " to join the domain" : ""));
        events.record(consumer, "serve", peerAddress, joining ? "ok: joining" : "ok");
        mutualPort = h.getMutualPort();
        if (!joining && mutualPort > 0) {
            events.mutualPullRequested(consumer, mutualPort);
        }
    }

    private void pull(SessionMessages.PullRequest p) {
        if (state != State.READY) {
            refuse(Code.UNEXPECTED_MESSAGE, "a pull request while " + state);
            return;
        }
        if (joining) {
            link.send(Frames.error(Code.REFRESH_REQUIRED, "a node joining the domain must refresh first"));
            return;
        }
        Ruv consumerRuv = Frames.ruv(p.getRuv());
        // Each side's contact with the rest of the domain: this node's by its own record, the
        // consumer's by its word (which can only spare this node, never mark it).
        LaggingRule.Evidence evidence = new LaggingRule.Evidence(engine.inContactExcept(consumer),
                p.hasOtherContactAgeMs() && p.getOtherContactAgeMs() <= engine.window().toMillis());
        try {
            stream = engine.supplyChanges(consumerRuv, consumer, evidence);
        } catch (SplitException e) {
            refuse(Code.SPLIT, e.getMessage());
            return;
        } catch (ImplausibleClaimException e) {
            refuse(Code.MALFORMED_FRAME, e.getMessage());
            return;
        } catch (SupplierLaggingException e) {
            link.send(Frames.error(Code.SUPPLIER_LAGGING, e.getMessage()));
            LOG.warn("supplier '" + nodeName + "' is stale: " + e.getMessage());
            return;
        } catch (RefreshRequiredException e) {
            boolean mine = engine.refreshRequired().isPresent();
            link.send(Frames.error(mine ? Code.NOT_SERVING : Code.REFRESH_REQUIRED, e.getMessage()));
            LOG.warn("refused consumer '" + consumer + "': " + e.getMessage());
            return;
        }
        state = State.STREAMING;
        movedNanos = scheduler.nanoTime();
        // What the consumer asks is clamped to this node's own limits: they bound the memory
        // and the time one session can take, whatever a peer asks.
        credit = clamp(p.getCredit(), options.credit());
        batchRecords = clamp(p.getMaxBatchRecords(), options.batchRecords());
        batchBytes = Math.min(Math.max(1, p.getMaxBatchBytes()), options.batchBytes());
        following = p.getFollow();
        notified = false;
        pump();
    }

    private void refresh(SessionMessages.RefreshRequest r) {
        if (state != State.READY) {
            refuse(Code.UNEXPECTED_MESSAGE, "a refresh request while " + state);
            return;
        }
        try {
            export = engine.exportSnapshot(consumer);
        } catch (RefreshRequiredException e) {
            link.send(Frames.error(Code.NOT_SERVING, e.getMessage()));
            return;
        }
        LOG.info("refreshing consumer '" + consumer + "'");
        state = State.REFRESHING;
        movedNanos = scheduler.nanoTime();
        credit = clamp(r.getCredit(), options.credit());
        batchBytes = Math.min(Math.max(64 << 10, r.getMaxChunkBytes()), Math.max(64 << 10, options.batchBytes()));
        pump();
    }

    private static int clamp(int asked, int limit) {
        return Math.min(Math.max(1, asked), limit);
    }

    private void credit(int batches) {
        if (batches < 1 || batches > options.credit() - credit) {
            refuse(Code.UNEXPECTED_MESSAGE, "consumer '" + consumer + "' granted " + batches + " more batches while " + credit
                    + " were still granted: more than the " + options.credit() + " this supplier allows in flight");
            return;
        }
        credit += batches;
        pump();
    }

    /** The link can take frames again (see {@link Link#writable()}). */
    public void writable() {
        if (state != State.CLOSED) {
            pump();
        }
    }

    /** Sends while there is credit, the link takes frames, and something is left to send. */
    private void pump() {
        while (credit > 0 && link.writable() && (state == State.STREAMING || state == State.REFRESHING)) {
            if (engine.refreshRequired().isPresent()) {
                // Marked while this stream ran (by another agreement's supplier): a node that
                // must be refreshed supplies nobody, not even the rest of a stream.
                refuse(Code.NOT_SERVING, "supplier '" + nodeName + "' must be refreshed itself and supplies nobody: " + engine.refreshRequired().get());
                return;
            }
            if (state == State.STREAMING) {
                ChangeBatch b = stream.next(batchRecords, batchBytes);
                if (b == null) {
                    endStream();
                    return;
                }
                link.send(Frame.newBuilder().setBatch(SessionMessages.Batch.newBuilder().addAllRecords(b.records())).build());
            } else {
                ByteString chunk = export.nextChunk(batchBytes);
                if (chunk == null) {
                    endRefresh();
                    return;
                }
                link.send(Frame.newBuilder().setChunk(SessionMessages.RefreshChunk.newBuilder().setChunk(chunk)).build());
            }
            credit--;
            movedNanos = scheduler.nanoTime();
        }
        waitForCredit();
    }

    /** A streaming session with no credit left, or a link that takes nothing, waits for the consumer, but not for ever. */
    private void waitForCredit() {
        boolean waiting = waiting();
        if (waiting && creditTimer == null) {
            armCreditTimer(options.silenceTimeout().toMillis());
        } else if (!waiting && creditTimer != null) {
            creditTimer.cancel();
            creditTimer = null;
        }
    }

    private boolean waiting() {
        return (credit == 0 || !link.writable()) && (state == State.STREAMING || state == State.REFRESHING);
    }

    /**
     * One timer serves a whole stream, as the consumer's silence timer does: each batch only
     * notes the time, and the timer, when due, cuts the consumer only if the stream has not moved
     * for the whole timeout, else waits again for what is left.
     */
    private void armCreditTimer(long millis) {
        creditTimer = scheduler.schedule(millis, () -> {
            creditTimer = null;
            if (!waiting()) {
                return;
            }
            long timeout = options.silenceTimeout().toMillis();
            long still = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(scheduler.nanoTime() - movedNanos);
            if (still < timeout) {
                armCreditTimer(timeout - still);
            } else if (credit == 0) {
                refuse(Code.UNEXPECTED_MESSAGE, "consumer '" + consumer + "' granted no credit for " + timeout + " ms: it stopped reading");
            } else {
                refuse(Code.UNEXPECTED_MESSAGE, "consumer '" + consumer + "' read nothing of what was sent for " + timeout + " ms: it stopped reading");
            }
        });
    }

    private void endStream() {
        Ruv sent = stream.supplierRuv();
        link.send(Frames.end(sent));
        events.served(consumer);
        engine.noteContact(consumer);
        stream.close();
        stream = null;
        state = State.READY;
        if (following && commitListener == null) {
            commitListener = engine.addCommitListener(() -> scheduler.execute(this::notifyChanges));
        }
        // Commits made while this stream ran were not announced (only an idle session is
        // notified): announce them now, or the consumer would wait for its interval.
        if (!sent.covers(engine.ruv())) {
            notifyChanges();
        }
    }

    private void endRefresh() {
        link.send(Frames.end(export.ruv()));
        export.close();
        export = null;
        state = State.READY;
        engine.noteContact(consumer);
        events.record(consumer, "supply-refresh", peerAddress, "ok");
        // Refreshed, the consumer is now a member of this domain.
        if (joining) {
            joining = false;
            if (mutualPort > 0) {
                events.mutualPullRequested(consumer, mutualPort);
            }
        }
    }

    private void notifyChanges() {
        if (state == State.READY && following && !notified) {
            notified = true;
            link.send(Frames.available());
        }
    }

    private void refuse(Code code, String message) {
        events.refused(consumer, code, message);
        events.record(consumer, "serve", peerAddress, "refused: " + code + ": " + message);
        // The node's refusal log reports it, at a rate a hostile consumer cannot raise.
        LOG.debug("refused consumer '" + consumer + "': " + code + ": " + message);
        link.send(Frames.error(code, message));
        link.close();
        close();
    }

    private void cancelHelloTimer() {
        if (helloTimer != null) {
            helloTimer.cancel();
            helloTimer = null;
        }
    }

    private void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        cancelHelloTimer();
        if (creditTimer != null) {
            creditTimer.cancel();
            creditTimer = null;
        }
        if (stream != null) {
            stream.close();
            stream = null;
        }
        if (export != null) {
            export.close();
            export = null;
        }
        if (commitListener != null) {
            try {
                commitListener.close();
            } catch (Exception e) {
                LOG.warn("removing a commit listener failed: " + e, e);
            }
            commitListener = null;
        }
    }
}
