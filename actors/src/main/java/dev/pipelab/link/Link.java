package dev.pipelab.link;

import dev.pipelab.clock.Clock;
import dev.pipelab.clock.ClockMode;
import dev.pipelab.fault.FaultWindow;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.monitoring.TransferKind;
import dev.pipelab.monitoring.TransferOutcome;
import dev.pipelab.protocol.CborSerializable;
import dev.pipelab.protocol.Control;
import dev.pipelab.protocol.Payload;
import dev.pipelab.protocol.RecordParts;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One direction of one link: a FIFO resource between two stages (or two replicas' ranks on the all-reduce ring).
 * Invariant: messages leave in the order the sender handed them over (one sender per link, and Pekko keeps
 * per-pair order); each arrives at {@code start + occupancy + latency} with {@code start = max(link free,
 * ready)}, and the {@link Delivery} to the receiver carries that arrival time. In wall time the delivery
 * waits for the wall instant of its arrival. The link records what it carried itself and hands its record of a step
 * over once ({@link Recorded}), when it has carried the step's {@link LinkSetup#messagesPerStep()} messages.
 *
 * <p>Faults act here ({@link Faults}, judged by the pure {@link LinkFaults}): a dropped transmission occupies the link
 * and is sent again after the retransmission timeout, a duplicated message is delivered twice, and a message that
 * cannot get through in time is not delivered: the link reports it {@link Broken} and carries nothing more of that
 * step. For quiescence a link counts each transfer it takes in as received and each delivery (a copy included) as sent.
 *
 * <p>The link knows no receiver's protocol: whoever creates it says how a {@link Delivery} becomes the receiver's
 * message, and the conversion runs here, on the sender's node, so what crosses nodes is the receiver's own message.
 */
public final class Link extends AbstractBehavior<Link.Command> {

    /** What a link understands. */
    public sealed interface Command extends CborSerializable
            permits Transfer, RingTransfer, Faults, Probe, Flush, Stop, Due {}

    /**
     * Carry the output of {@code stage}'s action for {@code microBatch} (message {@code seq} of the step on this
     * link), ready at {@code readySeconds}, to the receiver's action at {@code toPosition}. Pairing: one
     * {@link Arrived} per transfer.
     */
    public record Transfer(int step, long epoch, int seq, int toPosition, int stage, int microBatch, TransferKind kind,
                           long bytes, double readySeconds, Payload payload) implements Command {
        /** Emulated mode: sizes only, no tensor. */
        public Transfer(int step, long epoch, int seq, int toPosition, int stage, int microBatch, TransferKind kind, long bytes,
                        double readySeconds) {
            this(step, epoch, seq, toPosition, stage, microBatch, kind, bytes, readySeconds, Payload.EMPTY);
        }
    }

    /** Carry ring chunk {@code index} of {@code stage}'s all-reduce on {@code spec}. Pairing: one {@link RingArrived}. */
    public record RingTransfer(int step, long epoch, int stage, int index, long bytes, LinkSpec spec, double readySeconds,
                               Payload payload) implements Command {
        /** Emulated mode: sizes only, no gradient chunk. */
        public RingTransfer(int step, long epoch, int stage, int index, long bytes, LinkSpec spec, double readySeconds) {
            this(step, epoch, stage, index, bytes, spec, readySeconds, Payload.EMPTY);
        }
    }

    /**
     * The faults that act on this link during step {@code step} ({@code link.*} kinds; docs/faults.md): sent by the
     * link's only sender, the stage, before the step's first transfer, so it arrives before them. A lost transmission
     * is retransmitted after {@code retransmitSeconds} (doubled on each retry); a message that cannot get through
     * within {@code timeoutSeconds} of its first transmission breaks the step: one {@link Broken} to {@code brokenTo}.
     * A step for which no {@code Faults} came has none. Control, like {@link Probe}: neither side counts it for
     * quiescence.
     */
    public record Faults(int step, List<FaultWindow> windows, double retransmitSeconds, double timeoutSeconds,
                         ActorRef<Broken> brokenTo) implements Command {
        public Faults {
            windows = List.copyOf(windows);
        }
    }

    /**
     * The link gave up on a message of step {@code step} at {@code atSeconds} (step-local): it could not get through
     * within the timeout, because of fault {@code fault}. The step cannot complete.
     */
    public record Broken(int step, String link, int fault, double atSeconds, String reason) implements CborSerializable {}

    /** Report counters for quiescence detection. Pairing: one {@link Control.Report}. */
    public record Probe(int wave, ActorRef<Control.Report> replyTo) implements Command {}

    /**
     * Hand over the record of the step so far (the step will never complete). Pairing: one {@link Control.Flushed},
     * holding the record unless it was handed over already (or telemetry is off).
     */
    public record Flush(ActorRef<Control.Flushed> replyTo) implements Command {}

    /** Stop (end of run). */
    public enum Stop implements Command { INSTANCE }

    /** Wall time: delivery {@code key} is due. */
    record Due(long key) implements Command {}

    /** What arrives at the receiver: a pipeline message ({@link Arrived}) or a ring chunk ({@link RingArrived}). */
    public sealed interface Delivery permits Arrived, RingArrived {}

    /** The input of the receiver's action at {@code position} arrived at {@code arrivalSeconds}. */
    public record Arrived(int step, int position, double arrivalSeconds, Payload payload) implements Delivery {}

    /** Ring chunk {@code index} of {@code stage}'s all-reduce arrived at {@code arrivalSeconds}. */
    public record RingArrived(int step, int stage, int index, double arrivalSeconds, Payload payload) implements Delivery {}

    /**
     * What the link carried in one step, handed over once (to the ref it was created with): part {@code part} of
     * {@code parts} of the record ({@link RecordParts}; a record that fits one Artery frame is one part, itself). The
     * parts of a record are sent one after another, in order, so the last ({@code part == parts - 1}) arrives after
     * every other that arrives at all.
     */
    public record Recorded(LinkRecord record, int part, int parts) implements CborSerializable {
        public Recorded {
            if (part < 0 || part >= parts) throw new IllegalArgumentException("part must be within 0.." + (parts - 1) + ", got " + part);
        }

        /** The whole record in one part. */
        public Recorded(LinkRecord record) {
            this(record, 0, 1);
        }

        /** Whether this is the record's last part. */
        public boolean last() {
            return part == parts - 1;
        }
    }

    private record DueBroken(ActorRef<Broken> to, Broken broken) {}

    private final LinkSetup setup;
    private final Consumer<Delivery> deliverNow;
    private final ActorRef<Recorded> recorder;
    private final Clock clock;
    /** Wall time only: a virtual-time link runs without Pekko's timer interceptor, which every message would pass. */
    private final Optional<TimerScheduler<Command>> timers;
    private final LinkState state;
    private final boolean recording;
    /** The current step's transfers, at {@code SPANS} only. */
    private final List<LinkRecord.Transfer> transfers = new ArrayList<>();
    /** Whether the current step's record was handed over. */
    private boolean handedOver;
    private final Map<Long, Delivery> due = new HashMap<>();
    /** Wall time: a {@link Broken} waiting for the wall instant at which the sender gave up, and whom to tell. */
    private final Map<Long, DueBroken> dueBroken = new HashMap<>();
    /** The current step's faults ({@link LinkFaults#NONE} without a {@link Faults} message). */
    private LinkFaults faults = LinkFaults.NONE;
    private ActorRef<Broken> brokenTo;
    /** Whether the link gave up on a message of the current step: it carries nothing more of the step. */
    private boolean broken;
    /** The current step's dropped transmissions and delivered copies. */
    private int dropped;
    private int duplicates;
    private int step = -1;
    private long nextKey;
    private long sent;
    private long received;
    /** Transfers per part of a record, from this node's Artery frame size ({@link RecordParts#spansPerPart}). */
    private final int spansPerPart;

    private <T> Link(ActorContext<Command> context, Optional<TimerScheduler<Command>> timers, LinkSetup setup, ActorRef<T> target,
                     Function<Delivery, T> deliver, ActorRef<Recorded> recorder) {
        super(context);
        this.setup = setup;
        this.deliverNow = d -> target.tell(deliver.apply(d));
        this.recorder = recorder;
        this.timers = timers;
        this.clock = Clock.of(setup.clock(), setup.speed());
        this.state = new LinkState(setup.spec());
        this.recording = setup.telemetry() != TelemetryLevel.OFF;
        this.spansPerPart = RecordParts.spansPerPart(
                context.getSystem().settings().config().getBytes(RecordParts.FRAME_SIZE_KEY));
    }

    /**
     * @param target   the receiving stage
     * @param deliver  how a {@link Delivery} becomes {@code target}'s message
     * @param recorder where the link hands over its record of each step
     */
    public static <T> Behavior<Command> create(LinkSetup setup, ActorRef<T> target, Function<Delivery, T> deliver,
                                               ActorRef<Recorded> recorder) {
        if (setup.clock() != ClockMode.WALL) return Behaviors.setup(ctx -> new Link(ctx, Optional.empty(), setup, target, deliver, recorder));
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Link(ctx, Optional.of(timers), setup, target, deliver, recorder)));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Transfer.class, this::onTransfer)
                .onMessage(RingTransfer.class, this::onRingTransfer)
                .onMessage(Faults.class, this::onFaults)
                .onMessage(Due.class, this::onDue)
                .onMessage(Probe.class, this::onProbe)
                .onMessage(Flush.class, this::onFlush)
                .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
                .build();
    }

    private void enterStep(int s) {
        if (s != step) {
            step = s;
            state.reset();
            transfers.clear();
            handedOver = false;
            faults = LinkFaults.NONE;
            brokenTo = null;
            broken = false;
            dropped = 0;
            duplicates = 0;
        }
    }

    private Behavior<Command> onFaults(Faults f) {
        enterStep(f.step());
        faults = new LinkFaults(f.step(), setup.name(), f.windows(), f.retransmitSeconds(), f.timeoutSeconds());
        brokenTo = f.brokenTo();
        return this;
    }

    /** Records a transfer; hands the step's record over once the step's messages are all carried. */
    private void record(TransferKind kind, int stage, int microBatch, long bytes, double ready, LinkState.Transit transit) {
        if (!recording) return;
        if (setup.telemetry().spans()) {
            transfers.add(new LinkRecord.Transfer(kind, stage, microBatch, bytes, ready, transit.start(), transit.arrival()));
        }
        handOverIfCarried();
    }

    /** Hands the step's record over once the step's messages are all carried. */
    private void handOverIfCarried() {
        if (!handedOver && state.messages() == setup.messagesPerStep()) {
            handedOver = true;
            List<LinkRecord> parts = RecordParts.split(stepRecord(), spansPerPart);
            for (int i = 0; i < parts.size(); i++) recorder.tell(new Recorded(parts.get(i), i, parts.size()));
        }
    }

    private LinkRecord stepRecord() {
        return new LinkRecord(step, setup.replica(), setup.toReplica(), setup.fromRank(), setup.toRank(), setup.ring(),
                state.bytes(), state.busySeconds(), state.messages(), state.maxQueueDepth(), dropped, duplicates, transfers);
    }

    private Behavior<Command> onTransfer(Transfer t) {
        received++;
        enterStep(t.step());
        if (broken) return this; // the step is lost: nothing more of it is carried
        if (!faults.none()) {
            LinkFaults.Carried c = faults.carry(state, state.spec(), t.bytes(), t.readySeconds(), t.seq());
            carried(c, t.kind(), t.stage(), t.microBatch(), t.bytes(), t.epoch(), () -> "message " + t.seq() + " ("
                    + t.kind().label() + " of stage " + t.stage() + ", micro-batch " + t.microBatch() + ")",
                    arrival -> new Arrived(t.step(), t.toPosition(), arrival, t.payload()));
            return this;
        }
        LinkState.Transit transit = state.send(t.bytes(), t.readySeconds(), Double.NEGATIVE_INFINITY); // see Stage.pump
        record(t.kind(), t.stage(), t.microBatch(), t.bytes(), t.readySeconds(), transit);
        deliver(new Arrived(t.step(), t.toPosition(), transit.arrival(), t.payload()), t.epoch(), transit.arrival());
        return this;
    }

    private Behavior<Command> onRingTransfer(RingTransfer t) {
        received++;
        enterStep(t.step());
        if (broken) return this; // the step is lost: nothing more of it is carried
        if (!faults.none()) {
            long message = LinkFaults.ringMessage(t.stage(), t.index());
            LinkFaults.Carried c = faults.carry(state, t.spec(), t.bytes(), t.readySeconds(), message);
            carried(c, TransferKind.ALLREDUCE, t.stage(), -1, t.bytes(), t.epoch(),
                    () -> "all-reduce chunk " + t.index() + " of stage " + t.stage(),
                    arrival -> new RingArrived(t.step(), t.stage(), t.index(), arrival, t.payload()));
            return this;
        }
        LinkState.Transit transit = state.send(t.spec(), t.bytes(), t.readySeconds(), Double.NEGATIVE_INFINITY);
        record(TransferKind.ALLREDUCE, t.stage(), -1, t.bytes(), t.readySeconds(), transit);
        deliver(new RingArrived(t.step(), t.stage(), t.index(), transit.arrival(), t.payload()), t.epoch(), transit.arrival());
        return this;
    }

    /**
     * Records what became of a message under faults, delivers each transmission that got through (the original and
     * its copy), or reports the link {@link Broken} when the sender gave up.
     */
    private void carried(LinkFaults.Carried c, TransferKind kind, int stage, int microBatch, long bytes, long epoch,
                         Supplier<String> what, Function<Double, Delivery> delivery) {
        boolean spans = recording && setup.telemetry().spans();
        for (LinkFaults.Attempt a : c.attempts()) {
            switch (a.outcome()) {
                case DROPPED -> dropped++;
                case DUPLICATE -> duplicates++;
                case DELIVERED -> { }
            }
            if (spans) {
                transfers.add(new LinkRecord.Transfer(kind, stage, microBatch, bytes, a.readySeconds(), a.startSeconds(),
                        a.arrivalSeconds(), a.outcome()));
            }
        }
        if (recording) handOverIfCarried();
        if (c instanceof LinkFaults.GaveUp g) {
            broken = true;
            int drops = g.attempts().size();
            String reason = setup.name() + ": " + what.get() + " did not get through within " + faults.timeoutSeconds()
                    + " s of its first transmission: " + drops + (drops == 1 ? " transmission" : " transmissions")
                    + " dropped, the last by fault " + g.fault() + " (" + g.kind().key() + ")";
            Broken b = new Broken(step, setup.name(), g.fault(), g.atSeconds(), reason);
            tellBroken(b, epoch);
            return;
        }
        for (LinkFaults.Attempt a : c.attempts()) {
            if (a.outcome() != TransferOutcome.DROPPED) deliver(delivery.apply(a.arrivalSeconds()), epoch, a.arrivalSeconds());
        }
    }

    /** Tells the sender's {@code brokenTo} at once, or in wall time at the wall instant the sender gave up. */
    private void tellBroken(Broken b, long epoch) {
        if (clock.isVirtual()) {
            brokenTo.tell(b);
            return;
        }
        long key = nextKey++;
        dueBroken.put(key, new DueBroken(brokenTo, b));
        timers.orElseThrow().startSingleTimer(key, new Due(key), clock.until(epoch, b.atSeconds()));
    }

    private void deliver(Delivery delivery, long epoch, double arrival) {
        if (clock.isVirtual()) {
            sent++;
            deliverNow.accept(delivery);
            return;
        }
        long key = nextKey++;
        due.put(key, delivery);
        timers.orElseThrow().startSingleTimer(key, new Due(key), clock.until(epoch, arrival));
    }

    private Behavior<Command> onDue(Due d) {
        Delivery delivery = due.remove(d.key());
        if (delivery != null) {
            sent++;
            deliverNow.accept(delivery);
        }
        DueBroken b = dueBroken.remove(d.key());
        if (b != null) b.to().tell(b.broken());
        return this;
    }

    private Behavior<Command> onFlush(Flush f) {
        boolean pending = recording && step >= 0 && !handedOver && state.transmissions() > 0;
        if (!pending) {
            f.replyTo().tell(new Control.Flushed(setup.name(), List.of(), List.of()));
            return this;
        }
        List<LinkRecord> parts = RecordParts.split(stepRecord(), spansPerPart);
        for (int i = 0; i < parts.size(); i++) {
            f.replyTo().tell(new Control.Flushed(setup.name(), List.of(), List.of(parts.get(i)), i, parts.size()));
        }
        return this;
    }

    private Behavior<Command> onProbe(Probe p) {
        p.replyTo().tell(new Control.Report(p.wave(), setup.name(), Integer.MAX_VALUE, sent, received,
                due.isEmpty() && dueBroken.isEmpty(),
                Control.Report.NO_STEP, true, List.of()));
        return this;
    }
}
