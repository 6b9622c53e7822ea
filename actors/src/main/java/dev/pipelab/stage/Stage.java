package dev.pipelab.stage;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.pipelab.clock.Clock;
import dev.pipelab.clock.ClockMode;
import dev.pipelab.fault.FaultKind;
import dev.pipelab.fault.FaultWindow;
import dev.pipelab.link.Link;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.protocol.CborSerializable;
import dev.pipelab.protocol.Control;
import dev.pipelab.protocol.Payload;
import dev.pipelab.protocol.RecordParts;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One pipeline rank (device) of one data-parallel replica. Invariant: it runs its row of the schedule strictly
 * in order, every start following {@link StageState}'s rule from the times carried in messages; it sends each
 * output through the link to its consumer's rank, grants credit to the sender when it starts a consumer, runs
 * each finished model stage's ring all-reduce with the same rank of the neighbouring replicas, then the
 * optimizer step, and reports the step ({@link Done}, with its own {@link StageRecord}) to whoever connected it.
 *
 * <p>Its replies are its own ({@link Reply}, {@link Blocked}, {@link WeightsReported}, and the shared
 * {@link Control} replies): the receiver adapts them, so the stage knows nothing of the actors that drive it.
 *
 * <p>Real-numerics mode ({@link StageSetup#real()}): a {@link RealRank} computes each action for real when
 * {@link StageState} starts it (its measured seconds are the duration), outputs travel as tensor bytes in
 * {@link Link.Transfer}/{@link Deliver}, ring messages carry real gradient chunks, and the losses ride on
 * {@link Done}.
 */
public final class Stage extends AbstractBehavior<Stage.Command> {

    /** What a stage understands. */
    public sealed interface Command extends CborSerializable
            permits Connect, RunStep, Deliver, CreditGranted, RingChunk, Probe, ReportWeights, TakeCheckpoint, Flush, Stop, Tick {}

    /**
     * Wire the stage: {@code links} by destination rank, {@code peers} (stages of the same replica) by rank for
     * credits, {@code ring} the link to the same rank of the next replica (or none: {@code ringLinks} empty),
     * {@code replyTo} where its {@link Reply}s go, {@code blocked} where its {@link Blocked} notices go. Pairing:
     * answered by {@link Connected}.
     */
    public record Connect(Map<Integer, ActorRef<Link.Command>> links, Map<Integer, ActorRef<Command>> peers,
                          List<ActorRef<Link.Command>> ringLinks, ActorRef<Reply> replyTo, ActorRef<Blocked> blocked,
                          ActorRef<Link.Broken> broken) implements Command {
        /** Without faults on links: nobody hears of a link that gives up. */
        public Connect(Map<Integer, ActorRef<Link.Command>> links, Map<Integer, ActorRef<Command>> peers,
                       List<ActorRef<Link.Command>> ringLinks, ActorRef<Reply> replyTo, ActorRef<Blocked> blocked) {
            this(links, peers, ringLinks, replyTo, blocked, null);
        }
    }

    /**
     * Run attempt {@code step} at training step {@code trainingStep} (they differ once a recovery replays a step;
     * step-local time starts at 0; {@code epoch} anchors it in wall time); {@code offsets} are the data-loader offsets
     * of stage 0's micro-batches (rank 0 only); {@code faults} act on the rank and its outgoing links in this attempt;
     * {@code restore}: put the rank back to a checkpoint first. Pairing: one {@link Done} (or {@link Failed}, or
     * {@link Crashed}).
     */
    public record RunStep(int step, int trainingStep, long epoch, List<Long> offsets, StageFaults faults,
                          Optional<Restore> restore) implements Command {
        /** Training step {@code step}, without faults and without restoring a checkpoint. */
        public RunStep(int step, long epoch, List<Long> offsets) {
            this(step, step, epoch, offsets, StageFaults.NONE, Optional.empty());
        }
    }

    /**
     * Before the step, put the rank back to a checkpoint: the model at {@code version} optimizer steps, and in
     * real-numerics mode its state ({@code RealRank#checkpoint}, one payload per model stage in chunk order).
     */
    public record Restore(int version, List<Payload> state) implements CborSerializable {
        public Restore {
            state = List.copyOf(state);
        }
    }

    /** Take a checkpoint of the rank's model. Pairing: one {@link CheckpointTaken}. */
    public record TakeCheckpoint(ActorRef<CheckpointTaken> replyTo) implements Command {}

    /** A rank's checkpoint: its version and, in real-numerics mode, its state (see {@link Restore}). */
    public record CheckpointTaken(int replica, int rank, int version, List<Payload> state) implements CborSerializable {
        public CheckpointTaken {
            state = List.copyOf(state);
        }
    }

    /**
     * The input of the action at {@code position} arrived at {@code arrivalSeconds} (sent by a {@link Link});
     * {@code payload} is the tensor ({@code TensorCodec}) in real-numerics mode, empty otherwise.
     */
    public record Deliver(int step, int position, double arrivalSeconds, Payload payload) implements Command {
        public Deliver(int step, int position, double arrivalSeconds) {
            this(step, position, arrivalSeconds, Payload.EMPTY);
        }
    }

    /** Rank {@code receiverRank} started the consumer of this stage's message {@code seq} at {@code atSeconds}. */
    public record CreditGranted(int step, int receiverRank, int seq, double atSeconds) implements Command {}

    /**
     * Ring chunk {@code index} of {@code stage}'s all-reduce arrived from the left replica at {@code arrivalSeconds};
     * {@code payload} is the gradient chunk ({@code TensorCodec} vector) in real-numerics mode, empty otherwise.
     */
    public record RingChunk(int step, int stage, int index, double arrivalSeconds, Payload payload) implements Command {
        public RingChunk(int step, int stage, int index, double arrivalSeconds) {
            this(step, stage, index, arrivalSeconds, Payload.EMPTY);
        }
    }

    /** Real-numerics mode: send this rank's weights. Pairing: one {@link WeightsReported}. */
    public record ReportWeights(ActorRef<WeightsReported> replyTo) implements Command {}

    /** Report counters and what this stage waits for, for quiescence detection. Pairing: one {@link Control.Report}. */
    public record Probe(int wave, ActorRef<Control.Report> replyTo) implements Command {}

    /**
     * Hand over the record of the current step so far (the run ends in a deadlock, so the step will never complete).
     * Pairing: one {@link Control.Flushed}.
     */
    public record Flush(ActorRef<Control.Flushed> replyTo) implements Command {}

    /** Stop (end of run). */
    public enum Stop implements Command { INSTANCE }

    /** Wall time: what is running has reached its emulated end. */
    record Tick(int step) implements Command {}

    /** What a stage tells whoever connected it. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({@JsonSubTypes.Type(value = Connected.class, name = "connected"),
            @JsonSubTypes.Type(value = Done.class, name = "done"), @JsonSubTypes.Type(value = Failed.class, name = "failed"),
            @JsonSubTypes.Type(value = RecordPart.class, name = "part"), @JsonSubTypes.Type(value = Crashed.class, name = "crashed")})
    public sealed interface Reply extends CborSerializable permits Connected, Done, Failed, RecordPart, Crashed {}

    /**
     * The stage's actor crashed in step {@code step} at {@code atSeconds} (step-local): {@code fault} is the injected
     * {@code stage.crash} (its index) or -1 for an unexpected exception, {@code reason} what was thrown. Its supervisor
     * restarted it with its wiring and without its model or its step (device memory is lost); it has the version 0
     * model until a {@link Restore}. Sent by the crashing instance, so it arrives before anything the new one sends.
     */
    public record Crashed(int replica, int rank, int step, double atSeconds, int fault, String reason) implements Reply {}

    /** The stage is wired (reply to {@link Connect}). */
    public record Connected(int replica, int rank) implements Reply {}

    /**
     * The stage finished the step: its numbers, its record of the step (none with telemetry off) and, in
     * real-numerics mode, the last stage's per-micro-batch losses. A record too large for one Artery frame comes as
     * {@code parts} parts ({@link RecordParts}): {@code parts - 1} {@link RecordPart}s before this reply, which
     * carries the last.
     */
    public record Done(StageReport report, Optional<StageRecord> record, List<Double> losses, int parts, int version,
                       int duplicatesDropped) implements Reply {
        public Done {
            losses = List.copyOf(losses);
            if (parts < 1) throw new IllegalArgumentException("parts must be >= 1, got " + parts);
        }

        /** The record (if any) in {@code parts} parts, the model at version {@code report.step() + 1}, no duplicate. */
        public Done(StageReport report, Optional<StageRecord> record, List<Double> losses, int parts) {
            this(report, record, losses, parts, report.step() + 1, 0);
        }

        /** The record (if any) in one part. */
        public Done(StageReport report, Optional<StageRecord> record, List<Double> losses) {
            this(report, record, losses, 1);
        }
    }

    /**
     * The stage cannot go on (out of memory under {@link OomPolicy#FAIL}): why, and what it did up to then; the record
     * in {@code parts} parts as for {@link Done}.
     */
    public record Failed(int replica, int rank, String message, Optional<StageRecord> record, int parts) implements Reply {
        public Failed {
            if (parts < 1) throw new IllegalArgumentException("parts must be >= 1, got " + parts);
        }

        public Failed(int replica, int rank, String message, Optional<StageRecord> record) {
            this(replica, rank, message, record, 1);
        }
    }

    /**
     * A part of the stage's record of the step, not the last: the {@link Done} or {@link Failed} that follows says how
     * many there were. Pairing: sent only just before that reply, to the same receiver, so it arrives before it or never.
     */
    public record RecordPart(StageRecord part) implements Reply {}

    /** The stage has nothing it can start in {@code step} (it may be waiting for a message in flight). */
    public record Blocked(int step) implements CborSerializable {}

    /** Real-numerics mode: a rank's weights, one {@code WeightsFile} per model stage in chunk order. */
    public record WeightsReported(int replica, int rank, List<Payload> stages) implements CborSerializable {
        public WeightsReported {
            stages = List.copyOf(stages);
        }
    }

    /** The stage's message for what a link delivers to it. */
    public static Command delivered(Link.Delivery delivery) {
        if (delivery instanceof Link.Arrived a) return new Deliver(a.step(), a.position(), a.arrivalSeconds(), a.payload());
        Link.RingArrived r = (Link.RingArrived) delivery; // Delivery is sealed: the only other kind
        return new RingChunk(r.step(), r.stage(), r.index(), r.arrivalSeconds(), r.payload());
    }

    /**
     * What a stage keeps across a restart by its supervisor: its wiring (a restarted process rejoins the same job,
     * with the same peers), its message counters (so that quiescence detection still balances), and the messages of
     * a later attempt that came before it crashed (in virtual time a peer can be an attempt ahead of this actor's
     * crash in its own queue: those messages were sent to the job's new attempt, so the new instance gets them; lost,
     * the new attempt would wait for them forever). Everything else, the model and the step, is lost with the crashed
     * instance.
     */
    private static final class Kept {
        Connect wiring;
        long sent;
        long received;
        final List<Command> early = new ArrayList<>();
    }

    /** What an injected {@code stage.crash} throws: a real exception, handled by the actor's real supervision. */
    static final class InjectedCrash extends RuntimeException {
        final int fault;
        final double atSeconds;

        InjectedCrash(int fault, double atSeconds, String message) {
            super(message, null, false, false);
            this.fault = fault;
            this.atSeconds = atSeconds;
        }
    }

    private final StageSetup setup;
    private final Clock clock;
    /** Wall time only: a virtual-time stage runs without Pekko's timer interceptor, which every message would pass. */
    private final Optional<TimerScheduler<Command>> timers;
    private final StageState state;
    /** Real-numerics mode: the rank's layer shards; empty in emulated mode. */
    private final Optional<RealRank> real;
    private final Kept kept;
    private Connect wiring;
    private long epoch;
    private boolean reported = true;
    private boolean failed;
    /** A {@link Blocked} was sent and no probe has come since: at most one notice is outstanding. */
    private boolean noticeOutstanding;
    /** Messages of a later attempt than the current one, handled when it starts (kept across a restart). */
    private final List<Command> early;
    private long sent;
    private long received;
    /** Optimizer steps applied to this rank's model since its initial weights (a {@link Restore} sets it). */
    private int version;
    /** The current step's pending {@code stage.crash}, if any: its fault index and step-local time. */
    private int crashFault = -1;
    private double crashAt = Double.POSITIVE_INFINITY;
    /** Duplicate deliveries dropped in the current step (a {@code link.duplicate} delivers a message twice). */
    private int duplicates;
    /** Set just before an injected crash is thrown, so that the restart knows it was one. */
    private boolean crashing;
    /**
     * A restarted instance that has not begun a step: it reports itself busy to quiescence probes, so that the stages
     * left waiting for the crashed one are not taken for a deadlock before the trainer hears of the crash.
     */
    private boolean restarted;
    /** Spans per part of a record, from this node's Artery frame size ({@link RecordParts#spansPerPart}). */
    private final int spansPerPart;

    private Stage(ActorContext<Command> context, Optional<TimerScheduler<Command>> timers, StageSetup setup, Kept kept) {
        super(context);
        this.setup = setup;
        this.kept = kept;
        this.wiring = kept.wiring;
        this.sent = kept.sent;
        this.received = kept.received;
        this.early = kept.early;
        this.restarted = kept.wiring != null;
        this.timers = timers;
        this.clock = Clock.of(setup.clock(), setup.speed());
        StageProgram program = StageProgram.of(setup.program());
        this.real = setup.real().map(r -> new RealRank(r, program, setup.replica(), setup.replicas(),
                setup.program().splitBackward()));
        this.state = new StageState(program, setup.linkBuffer(), setup.memoryBytes(), real, setup.telemetry());
        this.spansPerPart = RecordParts.spansPerPart(
                context.getSystem().settings().config().getBytes(RecordParts.FRAME_SIZE_KEY));
    }

    /**
     * The stage under its supervisor: an exception (an injected {@code stage.crash}, or a bug) restarts it, after the
     * crashing instance told whoever connected it ({@link Crashed}); the new instance keeps the wiring and counters.
     */
    public static Behavior<Command> create(StageSetup setup) {
        return Behaviors.setup(outer -> {
            Kept kept = new Kept();
            Behavior<Command> stage = setup.clock() == ClockMode.WALL
                    ? Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Stage(ctx, Optional.of(timers), setup, kept)))
                    : Behaviors.setup(ctx -> new Stage(ctx, Optional.empty(), setup, kept));
            // an injected crash is expected: the trainer logs it and its recovery, without a stack trace
            Behavior<Command> injected = Behaviors.supervise(stage)
                    .onFailure(InjectedCrash.class, SupervisorStrategy.restart().withLoggingEnabled(false));
            return Behaviors.supervise(injected).onFailure(Exception.class, SupervisorStrategy.restart());
        });
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Connect.class, this::onConnect)
                .onMessage(RunStep.class, this::onRunStep)
                .onMessage(Deliver.class, this::onDeliver)
                .onMessage(CreditGranted.class, this::onCreditGranted)
                .onMessage(RingChunk.class, this::onRingChunk)
                .onMessage(Tick.class, this::onTick)
                .onMessage(Probe.class, this::onProbe)
                .onMessage(ReportWeights.class, this::onReportWeights)
                .onMessage(TakeCheckpoint.class, this::onTakeCheckpoint)
                .onSignal(PreRestart.class, this::onPreRestart)
                .onMessage(Flush.class, this::onFlush)
                .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
                .build();
    }

    private Behavior<Command> onConnect(Connect c) {
        wiring = c;
        kept.wiring = c;
        c.replyTo().tell(new Connected(setup.replica(), setup.rank()));
        return this;
    }

    private Behavior<Command> onRunStep(RunStep r) {
        epoch = r.epoch();
        r.restore().ifPresent(this::restore);
        state.beginStep(r.step(), r.offsets());
        state.faults(r.faults().stage());
        armCrash(r.faults());
        duplicates = 0;
        failed = false;
        restarted = false;
        crashing = false;
        real.ifPresent(x -> x.beginStep(r.trainingStep())); // the data of the training step, whichever attempt this is
        reported = false;
        sendLinkFaults(r.step(), r.faults());
        // taken off the kept list one by one: a crash while one is handled must not lose the others (those of a later
        // attempt still, which go back on the list's end and are not taken again here)
        for (int n = early.size(); n > 0; n--) {
            Command c = early.remove(0);
            received--; // counted once already, when it first arrived
            handleEarly(c);
        }
        pump();
        return this;
    }

    private void restore(Restore r) {
        version = r.version();
        real.ifPresent(x -> x.restore(r.state()));
    }

    /** The step's first {@code stage.crash} window, if any (a crash before the step acts at its start). */
    private void armCrash(StageFaults faults) {
        crashFault = -1;
        crashAt = Double.POSITIVE_INFINITY;
        for (FaultWindow w : faults.stage()) {
            if (w.kind() == FaultKind.STAGE_CRASH && Math.max(0, w.fromSeconds()) < crashAt) {
                crashFault = w.fault();
                crashAt = Math.max(0, w.fromSeconds());
            }
        }
    }

    /** Each outgoing link with faults this step hears of them before the step's first transfer (same sender, in order). */
    private void sendLinkFaults(int step, StageFaults faults) {
        if (faults.isEmpty()) return;
        faults.links().forEach((to, windows) -> {
            if (!windows.isEmpty()) { // not counted: the link counts it as received no more than a probe
                wiring.links().get(to).tell(new Link.Faults(step, windows, faults.retransmitSeconds(), faults.timeoutSeconds(),
                        wiring.broken()));
            }
        });
        if (!faults.ring().isEmpty() && !wiring.ringLinks().isEmpty()) {
            wiring.ringLinks().get(0).tell(new Link.Faults(step, faults.ring(), faults.retransmitSeconds(), faults.timeoutSeconds(),
                    wiring.broken()));
        }
    }

    /** Throws the pending crash if what just started would run past its moment. */
    private void crashIfDue() {
        if (crashFault >= 0 && state.runningEnd() > crashAt) {
            crashing = true;
            throw new InjectedCrash(crashFault, crashAt, "injected stage.crash (fault " + crashFault + ") at " + crashAt
                    + " s of step " + state.step());
        }
    }

    private Behavior<Command> onPreRestart(PreRestart signal) {
        kept.sent = sent;
        kept.received = received;
        if (wiring != null) {
            // the exception itself is not at hand here: an injected crash armed it, anything else is a bug (logged by Pekko)
            boolean injected = crashFault >= 0 && crashing;
            double at = injected ? crashAt : Double.isNaN(state.runningEnd()) ? 0 : state.runningEnd();
            wiring.replyTo().tell(new Crashed(setup.replica(), setup.rank(), state.step(), at,
                    injected ? crashFault : -1, injected ? "injected stage.crash" : "the stage's actor threw an exception"));
        }
        return this;
    }

    private void handleEarly(Command c) {
        if (c instanceof Deliver d) onDeliver(d);
        else if (c instanceof CreditGranted g) onCreditGranted(g);
        else if (c instanceof RingChunk k) onRingChunk(k);
    }

    /** Whether a step-tagged message belongs to the current step; a later step's waits until it starts. */
    private boolean current(int step, Command c) {
        received++;
        if (step == state.step() && !reported) return true;
        if (step > state.step()) early.add(c);
        return false;
    }

    private Behavior<Command> onDeliver(Deliver d) {
        if (!current(d.step(), d)) return this;
        if (state.hasArrived(d.position())) { // a link.duplicate's second copy: the position says it came already
            duplicates++;
            return this;
        }
        real.ifPresent(x -> x.input(d.position(), d.payload().bytes()));
        state.delivered(d.position(), d.arrivalSeconds());
        pump();
        return this;
    }

    private Behavior<Command> onCreditGranted(CreditGranted g) {
        if (!current(g.step(), g)) return this;
        state.granted(g.receiverRank(), g.seq(), g.atSeconds());
        pump();
        return this;
    }

    private Behavior<Command> onRingChunk(RingChunk k) {
        if (!current(k.step(), k)) return this;
        if (state.hasRingChunk(k.stage(), k.index())) { // a duplicate: the chunk's index says it came already
            duplicates++;
            return this;
        }
        real.ifPresent(x -> x.ringReceived(k.stage(), k.index(), k.payload().bytes()));
        state.ringChunk(k.stage(), k.index(), k.arrivalSeconds());
        pump();
        return this;
    }

    private Behavior<Command> onTick(Tick t) {
        if (t.step() != state.step() || !state.isRunning()) return this;
        crashIfDue();
        state.finishRunning();
        pump();
        return this;
    }

    /** Runs what can run: everything runnable in virtual time, or the next action (under a timer) in wall time. */
    private void pump() {
        if (failed || reported) return;
        if (clock.isVirtual()) {
            while (state.startNext(Double.NEGATIVE_INFINITY)) {
                crashIfDue();
                state.finishRunning();
            }
        } else if (!state.isRunning() && state.startNext(Double.NEGATIVE_INFINITY)) {
            // wall time paces the exact emulated timeline: a timer that fires late delays the wall clock, never the
            // emulated start of the next action, so scheduler lateness does not accumulate along the pipeline
            // ('pipelab bench wall' measures the wall step time against the virtual one)
            // a pending crash inside what runs fires at its own moment (onTick throws it)
            double until = crashFault >= 0 && state.runningEnd() > crashAt ? crashAt : state.runningEnd();
            timers.orElseThrow().startSingleTimer(new Tick(state.step()), clock.until(epoch, until));
        }
        apply(state.drain());
        if (failed) return;
        if (state.isDone()) {
            reported = true;
            List<Double> losses = real.map(RealRank::losses).orElse(List.of());
            List<StageRecord> parts = sendParts();
            version++;
            wiring.replyTo().tell(new Done(state.report(setup.replica()), last(parts), losses, Math.max(1, parts.size()), version,
                    duplicates));
        } else if (!state.isRunning() && !noticeOutstanding) {
            // the notice makes the trainer probe; until a probe arrives, a further notice would add nothing
            noticeOutstanding = true;
            wiring.blocked().tell(new Blocked(state.step()));
        }
    }

    /**
     * Splits the record of the step so far into parts that each fit Artery's frame and sends all but the last to whoever
     * connected the stage, before the reply that will carry the last (docs/telemetry.md, Records across nodes); returns
     * the parts (none with telemetry off).
     */
    private List<StageRecord> sendParts() {
        List<StageRecord> parts = record().map(r -> RecordParts.split(r, spansPerPart)).orElse(List.of());
        for (int i = 0; i < parts.size() - 1; i++) wiring.replyTo().tell(new RecordPart(parts.get(i)));
        return parts;
    }

    private static Optional<StageRecord> last(List<StageRecord> parts) {
        return parts.isEmpty() ? Optional.empty() : Optional.of(parts.get(parts.size() - 1));
    }

    /** The rank's record of the current step so far; none with telemetry off or before the first step. */
    private Optional<StageRecord> record() {
        if (setup.telemetry() == TelemetryLevel.OFF || state.step() < 0) return Optional.empty();
        return Optional.of(state.record(setup.replica()));
    }

    private void apply(List<StageState.Effect> effects) {
        final int step = state.step();
        final int replica = setup.replica();
        final int rank = setup.rank();
        for (StageState.Effect e : effects) {
            if (e instanceof StageState.Send s) {
                sent++;
                Payload payload = real.isPresent() ? new Payload(real.get().takeOutput(s.toRank(), s.seq())) : Payload.EMPTY;
                wiring.links().get(s.toRank()).tell(new Link.Transfer(step, epoch, s.seq(), s.toPosition(), s.stage(),
                        s.microBatch(), s.kind(), s.bytes(), s.ready(), payload));
            } else if (e instanceof StageState.Grant g) {
                sent++;
                wiring.peers().get(g.senderRank()).tell(new CreditGranted(step, rank, g.seq(), g.at()));
            } else if (e instanceof StageState.RingSend r) {
                sent++;
                Payload payload = real.isPresent() ? new Payload(real.get().ringPayload(r.stage(), r.index())) : Payload.EMPTY;
                wiring.ringLinks().get(0).tell(new Link.RingTransfer(step, epoch, r.stage(), r.index(), r.bytes(), r.link(),
                        r.ready(), payload));
            } else if (e instanceof StageState.OutOfMemory o) {
                String what = "out of memory at step " + step + ": stage " + o.stage() + " (rank " + rank + ", replica "
                        + replica + ") needs " + o.bytes() + " bytes at " + o.at() + " s, the device has " + o.capacityBytes();
                if (setup.oom() == OomPolicy.FAIL) {
                    failed = true;
                    // what the rank did up to the failure (and in the same pump) stays in the trace
                    List<StageRecord> parts = sendParts();
                    wiring.replyTo().tell(new Failed(replica, rank, what, last(parts), Math.max(1, parts.size())));
                    return;
                }
                // the stage's record carries it, and pipelab run prints one line per (step, rank, need) over all replicas
                // (OutOfMemoryLines): a warning here said the same thing once per replica and rank, 2,048 times on
                // Llama 3 405B's layout
                getContext().getLog().debug(what);
            }
        }
    }

    private Behavior<Command> onFlush(Flush f) {
        List<StageRecord> parts = record().map(r -> RecordParts.split(r, spansPerPart)).orElse(List.of());
        if (parts.isEmpty()) f.replyTo().tell(new Control.Flushed(setup.name(), List.of(), List.of()));
        for (int i = 0; i < parts.size(); i++) {
            f.replyTo().tell(new Control.Flushed(setup.name(), List.of(parts.get(i)), List.of(), i, parts.size()));
        }
        return this;
    }

    private Behavior<Command> onTakeCheckpoint(TakeCheckpoint c) {
        List<Payload> checkpoint = real.map(r -> r.checkpoint().stream().map(Payload::new).toList()).orElse(List.of());
        c.replyTo().tell(new CheckpointTaken(setup.replica(), setup.rank(), version, checkpoint));
        return this;
    }

    private Behavior<Command> onReportWeights(ReportWeights w) {
        List<Payload> weights = real.map(r -> r.weights().stream().map(Payload::new).toList()).orElse(List.of());
        w.replyTo().tell(new WeightsReported(setup.replica(), setup.rank(), weights));
        return this;
    }

    private Behavior<Command> onProbe(Probe p) {
        noticeOutstanding = false;
        boolean idle = !state.isRunning() || clock.isVirtual();
        List<String> stuck = state.stuck();
        if (setup.replicas() > 1) stuck = stuck.stream().map(s -> "replica " + setup.replica() + " " + s).toList();
        p.replyTo().tell(new Control.Report(p.wave(), setup.name(), setup.replica() * setup.program().ranks() + setup.rank(),
                sent, received, idle && !failed && !restarted, state.step(), state.isDone() || reported, stuck));
        return this;
    }
}
