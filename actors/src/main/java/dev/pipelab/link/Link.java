package dev.pipelab.link;

import dev.pipelab.clock.Clock;
import dev.pipelab.cluster.CborSerializable;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.LinkActivity;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.pipeline.Quiescence;
import dev.pipelab.pipeline.Trainer;
import dev.pipelab.stage.Stage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.util.HashMap;
import java.util.Map;

/**
 * One direction of one link: a FIFO resource between two stages (or two replicas' ranks on the all-reduce ring).
 * Invariant: messages leave in the order the sender handed them over (one sender per link, and Pekko keeps
 * per-pair order); each arrives at {@code start + occupancy + latency} with {@code start = max(link free,
 * ready)}, and the delivery to the receiving {@link Stage} carries that arrival time. In wall time the delivery
 * waits for the wall instant of its arrival.
 */
public final class Link extends AbstractBehavior<Link.Command> {

    /** What a link understands. */
    public sealed interface Command extends CborSerializable
            permits Transfer, RingTransfer, Probe, Flush, Stop, Due {}

    /**
     * Carry the output of {@code stage}'s action for {@code microBatch} (message {@code seq} of the step on this
     * link), ready at {@code readySeconds}, to the receiver's action at {@code toPosition}. Pairing: one
     * {@link Stage.Deliver} per transfer.
     */
    public record Transfer(int step, long epoch, int seq, int toPosition, int stage, int microBatch, String kind, long bytes,
                           double readySeconds, byte[] payload) implements Command {
        /** Structural equality with the payload by content (an array component would compare by identity). */
        @Override
        public boolean equals(Object other) {
            return other instanceof Transfer o && java.util.Objects.equals(step, o.step)
                    && java.util.Objects.equals(epoch, o.epoch)
                    && java.util.Objects.equals(seq, o.seq)
                    && java.util.Objects.equals(toPosition, o.toPosition)
                    && java.util.Objects.equals(stage, o.stage)
                    && java.util.Objects.equals(microBatch, o.microBatch)
                    && java.util.Objects.equals(kind, o.kind)
                    && java.util.Objects.equals(bytes, o.bytes)
                    && java.util.Objects.equals(readySeconds, o.readySeconds)
                    && java.util.Arrays.equals(payload, o.payload);
        }

        @Override
        public int hashCode() {
            return 31 * java.util.Objects.hash(step, epoch, seq, toPosition, stage, microBatch, kind, bytes, readySeconds) + java.util.Arrays.hashCode(payload);
        }

        /** Emulated mode: sizes only, no tensor. */
        public Transfer(int step, long epoch, int seq, int toPosition, int stage, int microBatch, String kind, long bytes,
                        double readySeconds) {
            this(step, epoch, seq, toPosition, stage, microBatch, kind, bytes, readySeconds, new byte[0]);
        }
    }

    /** Carry ring chunk {@code index} of {@code stage}'s all-reduce on {@code spec}. Pairing: one {@link Stage.RingChunk}. */
    public record RingTransfer(int step, long epoch, int stage, int index, long bytes, LinkSpec spec, double readySeconds,
                               byte[] payload) implements Command {
        /** Structural equality with the payload by content (an array component would compare by identity). */
        @Override
        public boolean equals(Object other) {
            return other instanceof RingTransfer o && java.util.Objects.equals(step, o.step)
                    && java.util.Objects.equals(epoch, o.epoch)
                    && java.util.Objects.equals(stage, o.stage)
                    && java.util.Objects.equals(index, o.index)
                    && java.util.Objects.equals(bytes, o.bytes)
                    && java.util.Objects.equals(spec, o.spec)
                    && java.util.Objects.equals(readySeconds, o.readySeconds)
                    && java.util.Arrays.equals(payload, o.payload);
        }

        @Override
        public int hashCode() {
            return 31 * java.util.Objects.hash(step, epoch, stage, index, bytes, spec, readySeconds) + java.util.Arrays.hashCode(payload);
        }

        /** Emulated mode: sizes only, no gradient chunk. */
        public RingTransfer(int step, long epoch, int stage, int index, long bytes, LinkSpec spec, double readySeconds) {
            this(step, epoch, stage, index, bytes, spec, readySeconds, new byte[0]);
        }
    }

    /** Report counters for quiescence detection. */
    public record Probe(int wave, ActorRef<Quiescence.Report> replyTo) implements Command {}

    /** Report the transfers of the step so far (see {@link Stage.Flush}). Pairing: one {@link Trainer.Flushed}. */
    public record Flush(ActorRef<Trainer.Command> replyTo) implements Command {}

    /** Stop (end of run). */
    public enum Stop implements Command { INSTANCE }

    /** Wall time: delivery {@code key} is due. */
    record Due(long key) implements Command {}

    private static final int ALLREDUCE = LinkActivity.kindIndex("allreduce");

    private final LinkSetup setup;
    private final ActorRef<Stage.Command> target;
    private final EventSink sink;
    private final Clock clock;
    private final TimerScheduler<Command> timers;
    private final LinkState state;
    /** The current step's transfers, reported as one batch once the step's last has left (see {@link LinkSetup}). */
    private final LinkActivity.Recorder activity;
    /** Transfers of the current step so far (a probe may have reported some of them already). */
    private int carried;
    private final Map<Long, Stage.Command> due = new HashMap<>();
    private int step = -1;
    private long nextKey;
    private long sent;
    private long received;

    private Link(ActorContext<Command> context, TimerScheduler<Command> timers, LinkSetup setup, ActorRef<Stage.Command> target,
                 EventSink sink) {
        super(context);
        this.setup = setup;
        this.target = target;
        this.sink = sink;
        this.timers = timers;
        this.clock = Clock.of(setup.clock(), setup.speed());
        this.state = new LinkState(setup.spec());
        this.activity = new LinkActivity.Recorder(setup.replica(), setup.fromRank(), setup.toRank());
    }

    public static Behavior<Command> create(LinkSetup setup, ActorRef<Stage.Command> target, EventSink sink) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Link(ctx, timers, setup, target, sink)));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Transfer.class, this::onTransfer)
                .onMessage(RingTransfer.class, this::onRingTransfer)
                .onMessage(Due.class, this::onDue)
                .onMessage(Probe.class, this::onProbe)
                .onMessage(Flush.class, f -> {
                    flush();
                    f.replyTo().tell(new Trainer.Flushed(setup.name()));
                    return this;
                })
                .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
                .build();
    }

    private void enterStep(int s) {
        if (s != step) {
            flush();
            step = s;
            carried = 0;
            state.reset();
        }
    }

    /**
     * Records a transfer; reports the batch when the step's transfers are complete, or at once in wall time (so the
     * live views move while a step runs) and when the count per step is unknown. A link whose sender reports its
     * transfers ({@link LinkSetup#senderReports()}) records nothing.
     */
    private void record(int kind, int stage, int microBatch, long bytes, double ready, LinkState.Transit transit) {
        if (sink == EventSink.NONE || setup.senderReports()) return; // telemetry off costs nothing, nor does the sender's
        activity.transfer(kind, stage, microBatch, bytes, ready, transit.start(), transit.arrival());
        carried++;
        if (!clock.isVirtual() || carried >= setup.messagesPerStep()) flush();
    }

    private void flush() {
        if (!activity.isEmpty()) sink.emit(activity.take(step));
    }

    private Behavior<Command> onTransfer(Transfer t) {
        received++;
        enterStep(t.step());
        LinkState.Transit transit = state.send(t.bytes(), t.readySeconds(), Double.NEGATIVE_INFINITY); // see Stage.pump
        record(LinkActivity.kindIndex(t.kind()), t.stage(), t.microBatch(), t.bytes(), t.readySeconds(), transit);
        deliver(new Stage.Deliver(t.step(), t.toPosition(), transit.arrival(), t.payload()), t.epoch(), transit.arrival());
        return this;
    }

    private Behavior<Command> onRingTransfer(RingTransfer t) {
        received++;
        enterStep(t.step());
        LinkState.Transit transit = state.send(t.spec(), t.bytes(), t.readySeconds(), Double.NEGATIVE_INFINITY);
        record(ALLREDUCE, t.stage(), -1, t.bytes(), t.readySeconds(), transit);
        deliver(new Stage.RingChunk(t.step(), t.stage(), t.index(), transit.arrival(), t.payload()), t.epoch(), transit.arrival());
        return this;
    }

    private void deliver(Stage.Command delivery, long epoch, double arrival) {
        if (clock.isVirtual()) {
            sent++;
            target.tell(delivery);
            return;
        }
        long key = nextKey++;
        due.put(key, delivery);
        timers.startSingleTimer(key, new Due(key), clock.until(epoch, arrival));
    }

    private Behavior<Command> onDue(Due d) {
        Stage.Command delivery = due.remove(d.key());
        if (delivery != null) {
            sent++;
            target.tell(delivery);
        }
        return this;
    }

    private Behavior<Command> onProbe(Probe p) {
        p.replyTo().tell(new Quiescence.Report(p.wave(), setup.name(), Integer.MAX_VALUE, sent, received, due.isEmpty(), Quiescence.Report.NO_STEP, true, java.util.List.of()));
        return this;
    }
}
