package dev.entente.engine.session;

import dev.entente.engine.ApplyResult;
import dev.entente.engine.ChangeBatch;
import dev.entente.engine.ChangeGapException;
import dev.entente.engine.clock.ClockSkewException;
import dev.entente.engine.Engine;
import dev.entente.engine.MalformedChangeException;
import dev.entente.engine.PreparedBatch;
import dev.entente.engine.RefreshRequiredException;
import dev.entente.engine.SnapshotImport;
import dev.entente.protocol.FrameException;
import dev.entente.protocol.Ids;
import dev.entente.protocol.ProtocolVersion;
import dev.entente.protocol.SessionMessages;
import dev.entente.protocol.SessionMessages.Error.Code;
import dev.entente.protocol.SessionMessages.Frame;
import java.util.List;
import java.util.UUID;

/**
 * The consumer side of one connection to a supplier, as a state machine with no I/O: says Hello,
 * checks the supplier's, then pulls (applying each batch atomically and granting one more credit
 * as each is committed, so at most {@code credit} batches are ever in flight) or refreshes (building
 * the snapshot aside and switching to it at the end). Whether to pull or refresh, and when, is
 * its {@link ConsumerAgreement}'s choice; this reports each outcome to it through {@link Owner}.
 *
 * <pre>
 *   HELLO --supplier's Hello ok--> READY --pull()--> PULLING --EndOfStream, RUV covered--> READY
 *                                    \--refresh()--> REFRESHING --EndOfStream, swapped in--> READY
 *   READY --ChangesAvailable--> (told to the agreement)
 *   any state --refusal, bad frame, gap, lost connection--> CLOSED
 * </pre>
 */
public final class ConsumerSession {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ConsumerSession.class);

    /** Where the session is; see the class comment. */
    public enum State { HELLO, READY, PULLING, REFRESHING, CLOSED }

    /** The outcomes a session reports to its agreement, each on the session's thread. */
    interface Owner {
        /** The supplier's Hello was accepted. */
        void ready();

        /** A batch was committed ({@code bytes} of records). */
        void applied(ApplyResult result, long bytes);

        /** A snapshot chunk was taken in. */
        void chunk(long bytes, long records, long estimatedRecords);

        /** The stream ended and this node covers the supplier's RUV. */
        void pulled();

        /** The refresh completed: this node is now a clone of the supplier's snapshot. */
        void refreshed();

        /** The refresh ended, but another agreement had refreshed this node meanwhile: the snapshot was dropped. */
        void superseded();

        /** This node must be refreshed (it is marked so); the session stays open for a refresh request. */
        void mustRefresh(String reason);

        /** The supplier committed something since the last pull. */
        void changesAvailable();

        /** The session failed and is closed; {@code cause} is the engine's exception when this node refused a batch, else null. */
        void failed(Code code, String reason, RuntimeException cause);
    }

    /**
     * A batch decoded and checked off the session's thread (a node decodes the next batch while the
     * previous one commits), or the error decoding it raised, reported in order.
     */
    public record Prepared(PreparedBatch batch, RuntimeException error) {
    }

    private final Engine engine;
    private final String nodeName;
    private final String agreement;
    private final String supplierAddress;
    /** The supplier's pinned name; null when no transport authenticated it. */
    private final String pinnedSupplier;
    private final int mutualPort;
    private final SessionOptions options;
    private final Link link;
    private final Owner owner;
    private final SessionEvents events;
    private State state = State.HELLO;
    private boolean joining;
    private String supplierName = "?";
    private SnapshotImport imp;
    /** Batches or chunks the supplier may still send: granted and not yet received. */
    private int outstanding;

    ConsumerSession(Engine engine, String nodeName, AgreementSettings settings, SessionOptions options, Link link, Owner owner,
                    SessionEvents events) {
        this.engine = engine;
        this.nodeName = nodeName;
        this.agreement = settings.name();
        this.supplierAddress = settings.supplier();
        this.pinnedSupplier = settings.supplierName();
        if (pinnedSupplier != null) {
            supplierName = pinnedSupplier;
        }
        this.mutualPort = settings.mutualPort();
        this.options = options;
        this.link = link;
        this.owner = owner;
        this.events = events;
    }

    /** Decodes a batch for {@link #receive(Prepared)}; safe on any thread. */
    public static Prepared prepare(Engine engine, SessionMessages.Batch batch, String agreement) {
        try {
            return new Prepared(engine.prepareChanges(ChangeBatch.of(batch.getRecordsList()), agreement), null);
        } catch (RuntimeException e) {
            return new Prepared(null, e);
        }
    }

    public State state() {
        return state;
    }

    /** Whether this connection's Hello said the node was joining (it may only ask for a refresh then). */
    boolean joining() {
        return joining;
    }

    /** The name the supplier gave in its Hello ("?" before). */
    String supplierName() {
        return supplierName;
    }

    /** Credit granted to the supplier and not yet used: never below zero, never above the session's credit. */
    public int outstandingCredit() {
        return outstanding;
    }

    /** Says Hello: a node that must be refreshed says it is joining, and may then only refresh. */
    void open() {
        joining = engine.refreshRequired().isPresent();
        link.send(Frames.hello(nodeName, engine.originId(), engine.domainId(), joining, mutualPort));
    }

    void pull() {
        state = State.PULLING;
        outstanding = options.credit();
        link.send(Frames.pull(engine.ruv(), options, engine.contactAgeExcept(supplierName)));
    }

    void refresh() {
        state = State.REFRESHING;
        outstanding = options.credit();
        LOG.info("agreement '" + agreement + "': refreshing this node from " + supplierAddress);
        link.send(Frames.refresh(options));
    }

    /** A frame from the supplier. */
    void receive(Frame f) {
        if (state == State.CLOSED) {
            return;
        }
        try {
            switch (f.getBodyCase()) {
                case HELLO -> hello(f.getHello());
                case BATCH -> batch(prepare(engine, f.getBatch(), agreement));
                case CHUNK -> chunk(f.getChunk());
                case END -> end(f.getEnd());
                case AVAILABLE -> available();
                case ERROR -> supplierError(f.getError());
                default -> fail(Code.UNEXPECTED_MESSAGE, "supplier sent " + f.getBodyCase() + ", which a consumer does not expect", true);
            }
        } catch (FrameException e) {
            fail(e.code(), e.getMessage(), true);
        }
    }

    /** A batch decoded by {@link #prepare}. */
    void receive(Prepared p) {
        if (state != State.CLOSED) {
            batch(p);
        }
    }

    /** The transport could not read a frame from the supplier. */
    void malformed(Code code, String message) {
        if (state != State.CLOSED) {
            fail(code, "from supplier: " + message, true);
        }
    }

    /** Closes the session and its connection; a refresh in progress is dropped, leaving the old content. */
    void close() {
        state = State.CLOSED;
        abortRefresh();
        link.close();
    }

    private void hello(SessionMessages.Hello h) {
        if (state != State.HELLO) {
            fail(Code.UNEXPECTED_MESSAGE, "supplier sent a second Hello", true);
            return;
        }
        String said = h.getNodeName();
        if (pinnedSupplier != null && !pinnedSupplier.equals(said)) {
            fail(Code.NOT_AUTHORIZED, "the supplier holding the key pinned for agreement '" + agreement + "' (node '" + pinnedSupplier
                    + "') says it is " + dev.entente.protocol.PeerText.name(said) + ": a supplier must give the name of its certificate", true);
            return;
        }
        if (!dev.entente.protocol.PeerText.isNodeName(said)) {
            fail(Code.NOT_AUTHORIZED, "the supplier's Hello gives " + dev.entente.protocol.PeerText.name(said)
                    + ", which is not a node name (1-64 letters, digits, _ . -)", true);
            return;
        }
        supplierName = said;
        events.record(agreement, "connect", supplierAddress, "ok: supplier '" + supplierName + "'");
        if (h.getProtocolVersion() != ProtocolVersion.CURRENT) {
            fail(Code.PROTOCOL_VERSION, "supplier '" + supplierName + "' speaks protocol version " + h.getProtocolVersion()
                    + " but this node speaks " + ProtocolVersion.CURRENT + ": run the same Entente version on both", false);
            return;
        }
        UUID domain = Ids.of(h.getDomainId());
        if (engine.refreshRequired().isEmpty() && !engine.domainId().equals(domain)) {
            fail(Code.DOMAIN_MISMATCH, "supplier '" + supplierName + "' is in domain " + domain + " but this node is in domain "
                    + engine.domainId() + ": nodes of different domains never replicate", false);
            return;
        }
        state = State.READY;
        if (h.getOriginId().size() == 16) {
            events.peerOrigin(supplierName, dev.entente.engine.clock.OriginId.fromBytes(h.getOriginId().toByteArray()));
        }
        owner.ready();
    }

    private boolean takeCredit(String what) {
        if (outstanding <= 0) {
            fail(Code.UNEXPECTED_MESSAGE, "supplier sent a " + what + " beyond the credit it was granted (" + options.credit() + ")", true);
            return false;
        }
        outstanding--;
        return true;
    }

    private void batch(Prepared prepared) {
        if (state != State.PULLING) {
            fail(Code.UNEXPECTED_MESSAGE, "supplier sent a batch while " + state, true);
            return;
        }
        if (!takeCredit("batch")) {
            return;
        }
        ApplyResult r;
        try {
            if (prepared.error() != null) {
                throw prepared.error();
            }
            r = engine.applyChanges(prepared.batch());
        } catch (ClockSkewException e) {
            fail(Code.CLOCK_SKEW, e.getMessage(), e);
            return;
        } catch (ChangeGapException e) {
            fail(Code.CHANGE_GAP, e.getMessage(), e);
            return;
        } catch (MalformedChangeException e) {
            fail(Code.MALFORMED_FRAME, e.getMessage(), e);
            return;
        } catch (RefreshRequiredException e) {
            supplierSaysRefresh(Code.REFRESH_REQUIRED, e.getMessage(), true);
            return;
        }
        owner.applied(r, prepared.batch().batch().bytes());
        outstanding++;
        link.send(Frames.credit(1));
    }

    private void chunk(SessionMessages.RefreshChunk c) {
        if (state != State.REFRESHING) {
            fail(Code.UNEXPECTED_MESSAGE, "supplier sent a snapshot chunk while " + state, true);
            return;
        }
        if (!takeCredit("snapshot chunk")) {
            return;
        }
        try {
            if (imp == null) {
                imp = engine.beginRefresh(agreement);
            }
            imp.accept(c.getChunk());
        } catch (RuntimeException e) {
            fail(Code.MALFORMED_FRAME, "refresh from " + supplierAddress + " failed: " + e.getMessage(), true);
            return;
        }
        owner.chunk(c.getChunk().size(), imp.records(), imp.estimatedRecords());
        outstanding++;
        link.send(Frames.credit(1));
    }

    private void end(SessionMessages.EndOfStream e) {
        if (state == State.REFRESHING) {
            endRefresh();
            return;
        }
        if (state != State.PULLING) {
            fail(Code.UNEXPECTED_MESSAGE, "supplier ended a stream while " + state, true);
            return;
        }
        List<String> missing = engine.missingFrom(Frames.ruv(e.getRuv()));
        if (!missing.isEmpty()) {
            fail(Code.CHANGE_GAP, "the supplier's stream ended but this node still lacks " + missing, true);
            return;
        }
        state = State.READY;
        outstanding = 0;
        engine.noteContact(supplierName);
        owner.pulled();
    }

    private void endRefresh() {
        if (imp == null) {
            fail(Code.UNEXPECTED_MESSAGE, "the refresh ended before any snapshot chunk", true);
            return;
        }
        if (engine.refreshRequired().isEmpty()) {
            // Another agreement refreshed this node meanwhile, and it may have written since:
            // this snapshot would discard those writes.
            abortRefresh();
            joining = true;
            state = State.READY;
            outstanding = 0;
            LOG.info("agreement '" + agreement + "': this node was refreshed meanwhile; the snapshot is dropped");
            owner.superseded();
            return;
        }
        try {
            imp.complete();
        } catch (RuntimeException ex) {
            fail(Code.INTERNAL, "completing the refresh from " + supplierAddress + " failed: " + ex.getMessage(), false);
            return;
        }
        imp.close();
        imp = null;
        state = State.READY;
        outstanding = 0;
        engine.noteContact(supplierName);
        LOG.info("agreement '" + agreement + "': refreshed; this node's origin is now " + engine.originId());
        events.record(agreement, "refresh", supplierAddress, "ok: new origin " + engine.originId());
        events.refreshed(agreement);
        owner.refreshed();
    }

    private void available() {
        if (state == State.HELLO) {
            fail(Code.UNEXPECTED_MESSAGE, "supplier announced changes before its Hello", true);
            return;
        }
        owner.changesAvailable();
    }

    private void supplierError(SessionMessages.Error e) {
        if (e.getCode() == Code.REFRESH_REQUIRED && state != State.REFRESHING) {
            supplierSaysRefresh(e.getCode(), e.getMessage(), false);
            return;
        }
        fail(e.getCode(), "supplier refused: " + e.getCode() + ": " + dev.entente.protocol.PeerText.message(e.getMessage()), false);
    }

    /**
     * The supplier's word (its refusal, or a batch older than what this node reaped) says this
     * node must be refreshed: the engine decides whether its own record agrees.
     *
     * @param tell whether the supplier is told (it is not when it refused first)
     */
    private void supplierSaysRefresh(Code code, String message, boolean tell) {
        message = dev.entente.protocol.PeerText.message(message);
        String reason = "supplier '" + supplierName + "' of agreement '" + agreement + "' says: " + message;
        java.util.Optional<String> notMarked = engine.markRefreshRequiredOnWordOf(supplierName, reason);
        if (notMarked.isPresent()) {
            fail(Code.SPLIT, notMarked.get(), tell);
            return;
        }
        events.refused(agreement, code, message);
        LOG.warn("agreement '" + agreement + "': " + code + ": " + message);
        state = State.READY;
        outstanding = 0;
        owner.mustRefresh(message);
    }

    /** @param tell whether the supplier is told why (it is not when it refused first) */
    private void fail(Code code, String reason, boolean tell) {
        if (tell) {
            link.send(Frames.error(code, reason));
        }
        close();
        owner.failed(code, reason, null);
    }

    /** This node refused a batch: the supplier is told why. */
    private void fail(Code code, String reason, RuntimeException cause) {
        link.send(Frames.error(code, reason));
        close();
        owner.failed(code, reason, cause);
    }

    private void abortRefresh() {
        if (imp != null) {
            imp.close();
            imp = null;
        }
    }
}
