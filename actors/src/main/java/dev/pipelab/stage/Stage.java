package dev.pipelab.stage;

import dev.pipelab.clock.Clock;
import dev.pipelab.cluster.CborSerializable;
import dev.pipelab.link.Link;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.RankActivity;
import dev.pipelab.pipeline.Pipeline;
import dev.pipelab.pipeline.Quiescence;
import dev.pipelab.pipeline.Trainer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One pipeline rank (device) of one data-parallel replica. Invariant: it runs its row of the schedule strictly
 * in order, every start following {@link StageState}'s rule from the times carried in messages; it sends each
 * output through the link to its consumer's rank, grants credit to the sender when it starts a consumer, runs
 * each finished model stage's ring all-reduce with the same rank of the neighbouring replicas, then the
 * optimizer step, and reports the step to its {@link Pipeline}.
 *
 * <p>Real-numerics mode ({@link StageSetup#real()}): a {@link RealRank} computes each action for real when
 * {@link StageState} starts it (its measured seconds are the duration), outputs travel as tensor bytes in
 * {@link Link.Transfer}/{@link Deliver}, ring messages carry real gradient chunks, and the losses ride on
 * {@link Pipeline.StageDone}.
 */
public final class Stage extends AbstractBehavior<Stage.Command> {

    /** What a stage understands. */
    public sealed interface Command extends CborSerializable
            permits Connect, RunStep, Deliver, CreditGranted, RingChunk, Probe, ReportWeights, Flush, Stop, Tick {}

    /**
     * Wire the stage: {@code links} by destination rank, {@code peers} (stages of the same replica) by rank for
     * credits, {@code ring} the link to the same rank of the next replica (or none: {@code ringLinks} empty).
     * Pairing: answered by {@link Pipeline.StageConnected}.
     */
    public record Connect(Map<Integer, ActorRef<Link.Command>> links, Map<Integer, ActorRef<Command>> peers,
                          List<ActorRef<Link.Command>> ringLinks, ActorRef<Pipeline.Command> pipeline,
                          ActorRef<Trainer.Command> trainer) implements Command {}

    /**
     * Run step {@code step} (step-local time starts at 0; {@code epoch} anchors it in wall time); {@code offsets}
     * are the data-loader offsets of stage 0's micro-batches (rank 0 only). Pairing: one
     * {@link Pipeline.StageDone} (or {@link Pipeline.StageFailed}).
     */
    public record RunStep(int step, long epoch, List<Long> offsets) implements Command {}

    /**
     * The input of the action at {@code position} arrived at {@code arrivalSeconds} (sent by a {@link Link});
     * {@code payload} is the tensor ({@code TensorCodec}) in real-numerics mode, empty otherwise.
     */
    public record Deliver(int step, int position, double arrivalSeconds, byte[] payload) implements Command {
        /** Structural equality with the payload by content (an array component would compare by identity). */
        @Override
        public boolean equals(Object other) {
            return other instanceof Deliver o && java.util.Objects.equals(step, o.step)
                    && java.util.Objects.equals(position, o.position)
                    && java.util.Objects.equals(arrivalSeconds, o.arrivalSeconds)
                    && java.util.Arrays.equals(payload, o.payload);
        }

        @Override
        public int hashCode() {
            return 31 * java.util.Objects.hash(step, position, arrivalSeconds) + java.util.Arrays.hashCode(payload);
        }

        public Deliver(int step, int position, double arrivalSeconds) {
            this(step, position, arrivalSeconds, new byte[0]);
        }
    }

    /** Rank {@code receiverRank} started the consumer of this stage's message {@code seq} at {@code atSeconds}. */
    public record CreditGranted(int step, int receiverRank, int seq, double atSeconds) implements Command {}

    /**
     * Ring chunk {@code index} of {@code stage}'s all-reduce arrived from the left replica at {@code arrivalSeconds};
     * {@code payload} is the gradient chunk ({@code TensorCodec} vector) in real-numerics mode, empty otherwise.
     */
    public record RingChunk(int step, int stage, int index, double arrivalSeconds, byte[] payload) implements Command {
        /** Structural equality with the payload by content (an array component would compare by identity). */
        @Override
        public boolean equals(Object other) {
            return other instanceof RingChunk o && java.util.Objects.equals(step, o.step)
                    && java.util.Objects.equals(stage, o.stage)
                    && java.util.Objects.equals(index, o.index)
                    && java.util.Objects.equals(arrivalSeconds, o.arrivalSeconds)
                    && java.util.Arrays.equals(payload, o.payload);
        }

        @Override
        public int hashCode() {
            return 31 * java.util.Objects.hash(step, stage, index, arrivalSeconds) + java.util.Arrays.hashCode(payload);
        }

        public RingChunk(int step, int stage, int index, double arrivalSeconds) {
            this(step, stage, index, arrivalSeconds, new byte[0]);
        }
    }

    /** Real-numerics mode: send this rank's weights. Pairing: one {@link Trainer.WeightsReported}. */
    public record ReportWeights(ActorRef<Trainer.Command> replyTo) implements Command {}

    /** Report counters and what this stage waits for, for quiescence detection. */
    public record Probe(int wave, ActorRef<Quiescence.Report> replyTo) implements Command {}

    /**
     * Report the telemetry of the step so far (the run ends in a deadlock, so the step will never complete). Pairing:
     * one {@link Trainer.Flushed}.
     */
    public record Flush(ActorRef<Trainer.Command> replyTo) implements Command {}

    /** Stop (end of run). */
    public enum Stop implements Command { INSTANCE }

    /** Wall time: what is running has reached its emulated end. */
    record Tick(int step) implements Command {}

    private static final byte[] NO_PAYLOAD = new byte[0];

    private final StageSetup setup;
    private final EventSink sink;
    private final Clock clock;
    private final TimerScheduler<Command> timers;
    private final StageState state;
    /**
     * The current step's spans, which {@link StageState} records as it computes them, reported as one
     * {@link RankActivity} when the rank finishes the step (virtual time) or after each action (wall time, so the live
     * views move while a step runs). Never written with {@link EventSink#NONE}: "telemetry off" costs nothing.
     */
    private final RankActivity.Recorder activity;
    /** The outgoing pipeline links whose transfers this rank reports ({@link StageSetup#sentLinks()}); none with telemetry off. */
    private final List<SentTransfers> sentLinks = new ArrayList<>();
    /** The ring link whose transfers this rank reports ({@link StageSetup#sentRing()}); null when it does not. */
    private final SentRing sentRing;
    /** Real-numerics mode: the rank's layer shards; empty in emulated mode. */
    private final java.util.Optional<RealRank> real;
    private Connect wiring;
    private long epoch;
    private boolean reported = true;
    private boolean failed;
    /** A {@link Trainer.StageBlocked} was sent and no probe has come since: at most one notice is outstanding. */
    private boolean noticeOutstanding;
    private final List<Command> early = new ArrayList<>();
    private long sent;
    private long received;

    private Stage(ActorContext<Command> context, TimerScheduler<Command> timers, StageSetup setup, EventSink sink) {
        super(context);
        this.setup = setup;
        this.sink = sink;
        this.timers = timers;
        this.clock = Clock.of(setup.clock(), setup.speed());
        StageProgram program = StageProgram.of(setup.program());
        this.real = setup.real().map(r -> new RealRank(r, program, setup.replica(), setup.replicas(),
                setup.program().splitBackward()));
        this.activity = new RankActivity.Recorder(setup.replica(), setup.rank());
        this.state = new StageState(program, setup.linkBuffer(), setup.memoryBytes(), real,
                sink == EventSink.NONE ? java.util.Optional.empty() : java.util.Optional.of(activity));
        if (sink != EventSink.NONE) {
            for (StageSetup.SentLink l : setup.sentLinks()) {
                sentLinks.add(new SentTransfers(program, setup.replica(), l.toRank(), l.spec()));
            }
        }
        this.sentRing = sink != EventSink.NONE && setup.sentRing()
                ? new SentRing(setup.replica(), setup.rank(), state.ringMessagesPerStep()) : null;
    }

    public static Behavior<Command> create(StageSetup setup, EventSink sink) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Stage(ctx, timers, setup, sink)));
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
                .onMessage(Flush.class, this::onFlush)
                .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
                .build();
    }

    private Behavior<Command> onConnect(Connect c) {
        wiring = c;
        c.pipeline().tell(new Pipeline.StageConnected(setup.replica(), setup.rank()));
        return this;
    }

    private Behavior<Command> onRunStep(RunStep r) {
        epoch = r.epoch();
        state.beginStep(r.step(), r.offsets());
        real.ifPresent(x -> x.beginStep(r.step()));
        reported = false;
        List<Command> replay = new ArrayList<>(early);
        early.clear();
        for (Command c : replay) {
            received--; // counted once already, when it first arrived
            handleEarly(c);
        }
        pump();
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
        real.ifPresent(x -> x.input(d.position(), d.payload()));
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
        real.ifPresent(x -> x.ringReceived(k.stage(), k.index(), k.payload()));
        state.ringChunk(k.stage(), k.index(), k.arrivalSeconds());
        pump();
        return this;
    }

    private Behavior<Command> onTick(Tick t) {
        if (t.step() != state.step() || !state.isRunning()) return this;
        state.finishRunning();
        pump();
        return this;
    }

    /** Runs what can run: everything runnable in virtual time, or the next action (under a timer) in wall time. */
    private void pump() {
        if (failed || reported) return;
        if (clock.isVirtual()) {
            while (state.startNext(Double.NEGATIVE_INFINITY)) {
                state.finishRunning();
            }
        } else if (!state.isRunning() && state.startNext(Double.NEGATIVE_INFINITY)) {
            // wall time paces the exact emulated timeline: a timer that fires late delays the wall clock, never the
            // emulated start of the next action, so scheduler lateness does not accumulate along the pipeline
            // ('pipelab bench wall' measures the wall step time against the virtual one)
            timers.startSingleTimer(new Tick(state.step()), clock.until(epoch, state.runningEnd()));
        }
        apply(state.drain());
        if (failed) return;
        if (state.isDone() || !clock.isVirtual()) flush();
        if (state.isDone()) {
            reported = true;
            List<Double> losses = real.map(RealRank::losses).orElse(List.of());
            wiring.pipeline().tell(new Pipeline.StageDone(state.report(setup.replica()), losses));
        } else if (!state.isRunning() && !noticeOutstanding) {
            // the notice makes the trainer probe; until a probe arrives, a further notice would add nothing
            noticeOutstanding = true;
            wiring.trainer().tell(new Trainer.StageBlocked(state.step()));
        }
    }

    private void flush() {
        state.reportActions();
        if (!activity.isEmpty()) sink.emit(activity.take(state.step()));
        for (SentTransfers l : sentLinks) l.report(state.step(), state.endsColumn(), state.finishedPositions(), sink);
        if (sentRing != null) sentRing.report(state, sink);
    }

    private void apply(List<StageState.Effect> effects) {
        final int step = state.step();
        final int replica = setup.replica();
        final int rank = setup.rank();
        for (StageState.Effect e : effects) {
            if (e instanceof StageState.Send s) {
                sent++;
                byte[] payload = real.isPresent() ? real.get().takeOutput(s.toRank(), s.seq()) : NO_PAYLOAD;
                wiring.links().get(s.toRank()).tell(new Link.Transfer(step, epoch, s.seq(), s.toPosition(), s.stage(),
                        s.microBatch(), s.kind(), s.bytes(), s.ready(), payload));
            } else if (e instanceof StageState.Grant g) {
                sent++;
                wiring.peers().get(g.senderRank()).tell(new CreditGranted(step, rank, g.seq(), g.at()));
            } else if (e instanceof StageState.RingSend r) {
                sent++;
                byte[] payload = real.isPresent() ? real.get().ringPayload(r.stage(), r.index()) : NO_PAYLOAD;
                wiring.ringLinks().get(0).tell(new Link.RingTransfer(step, epoch, r.stage(), r.index(), r.bytes(), r.link(),
                        r.ready(), payload));
            } else if (e instanceof StageState.OutOfMemory o) {
                sink.emit(new Event.OutOfMemory(step, replica, rank, o.at(), o.bytes(), o.capacityBytes()));
                String what = "out of memory at step " + step + ": stage " + o.stage() + " (rank " + rank + ", replica "
                        + replica + ") needs " + o.bytes() + " bytes at " + o.at() + " s, the device has " + o.capacityBytes();
                if (setup.oom() == OomPolicy.FAIL) {
                    flush(); // what the rank did up to the failure (and in the same pump) stays in the trace
                    failed = true;
                    wiring.pipeline().tell(new Pipeline.StageFailed(replica, rank, what));
                    return;
                }
                getContext().getLog().warn(what);
            }
        }
    }

    private Behavior<Command> onFlush(Flush f) {
        if (!reported) flush();
        f.replyTo().tell(new Trainer.Flushed(setup.name()));
        return this;
    }

    private Behavior<Command> onReportWeights(ReportWeights w) {
        List<byte[]> weights = real.map(RealRank::weights).orElse(List.of());
        w.replyTo().tell(new Trainer.WeightsReported(setup.replica(), setup.rank(), weights));
        return this;
    }

    private Behavior<Command> onProbe(Probe p) {
        noticeOutstanding = false;
        boolean idle = !state.isRunning() || clock.isVirtual();
        List<String> stuck = state.stuck();
        if (setup.replicas() > 1) stuck = stuck.stream().map(s -> "replica " + setup.replica() + " " + s).toList();
        p.replyTo().tell(new Quiescence.Report(p.wave(), setup.name(), setup.replica() * setup.program().ranks() + setup.rank(), sent, received, idle && !failed, state.step(),
                state.isDone() || reported, stuck));
        return this;
    }
}
