package dev.pipelab.pipeline;

import dev.pipelab.cluster.Host;
import dev.pipelab.cluster.NodePlacement;
import dev.pipelab.link.Link;
import dev.pipelab.link.LinkSetup;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.protocol.CborSerializable;
import dev.pipelab.protocol.RecordParts;
import dev.pipelab.stage.Stage;
import dev.pipelab.stage.StageFaults;
import dev.pipelab.stage.StageReport;
import dev.pipelab.stage.StageSetup;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The supervisor of one data-parallel replica: has its stages and links spawned on their nodes' {@link Host}s,
 * wires them, starts each step with the data loader's offsets, watches every stage and link, and reports the
 * step to the {@link Trainer} once every rank has finished it and the consumed offsets committed, with every rank's
 * record of it. Invariant: a step is reported only if stage 0 consumed exactly the step's m offsets, each once.
 */
public final class Pipeline extends AbstractBehavior<Pipeline.Command> {

    /** What a pipeline understands. */
    public sealed interface Command extends CborSerializable
            permits Wire, RunStep, StageReplied, StageSpawnedReply, LinkSpawnedReply, LinkBroken {}

    /** Spawn the links; {@code rightStages} are the next replica's stages by rank (ring neighbours). */
    public record Wire(Map<Integer, ActorRef<Stage.Command>> rightStages) implements Command {}

    /**
     * Run attempt {@code step} at training step {@code trainingStep} (the data loader's offsets of that step; the two
     * are equal until a recovery replays a step); {@code epoch} anchors step-local time in wall time; {@code faults}
     * by rank (absent: none); {@code restore} by rank: put the rank back to a checkpoint first. Pairing: one
     * {@link Trainer.ReplicaDone}, or a {@link Trainer.StepFailed}.
     */
    public record RunStep(int step, int trainingStep, long epoch, Map<Integer, StageFaults> faults,
                          Map<Integer, Stage.Restore> restore) implements Command {
        public RunStep {
            faults = Map.copyOf(faults);
            restore = Map.copyOf(restore);
        }

        /** Training step {@code step}, no fault, nothing to restore. */
        public RunStep(int step, long epoch) {
            this(step, step, epoch, Map.of(), Map.of());
        }
    }

    /** A link of this replica gave up on a message. */
    record LinkBroken(Link.Broken broken) implements Command {}

    /** A stage replied: connected, done with the step, or failed. */
    record StageReplied(Stage.Reply reply) implements Command {}

    record StageSpawnedReply(Host.StageSpawned spawned) implements Command {}

    record LinkSpawnedReply(Host.LinkSpawned spawned) implements Command {}

    private final int replica;
    private final List<StageSetup> setups;
    private final List<LinkSetup> links;
    private final List<ActorRef<Host.Command>> hosts;
    private final NodePlacement placement;
    private final ActorRef<Trainer.Command> trainer;
    private final ActorRef<Stage.Blocked> blocked;
    private final ActorRef<Link.Recorded> recorder;
    private final ActorRef<Stage.Reply> stageReplies;
    private final DataLoader loader;
    private final Map<Integer, ActorRef<Stage.Command>> stages = new TreeMap<>();
    private final List<Host.LinkSpawned> spawnedLinks = new ArrayList<>();
    private int linksExpected;
    private int connected;
    private final Map<Integer, StageReport> done = new TreeMap<>();
    private final Map<Integer, StageRecord> records = new TreeMap<>();
    /** Parts of the ranks' records of the step that came before their {@link Stage.Done} (or {@link Stage.Failed}). */
    private final PartInbox<Integer, StageRecord> parts = new PartInbox<>();
    /** The step's records of ranks that arrived with parts missing. */
    private int telemetryLost;
    private List<Double> losses = List.of();
    private int step = -1;
    private int trainingStep = -1;
    private boolean failed;
    /** The ranks' model versions (optimizer steps applied) at the end of the step, and duplicates they dropped. */
    private final Map<Integer, Integer> versions = new TreeMap<>();
    private int duplicates;

    private Pipeline(ActorContext<Command> context, int replica, List<StageSetup> setups, List<LinkSetup> links,
                     List<ActorRef<Host.Command>> hosts, NodePlacement placement, ActorRef<Trainer.Command> trainer,
                     ActorRef<Stage.Blocked> blocked, ActorRef<Link.Recorded> recorder) {
        super(context);
        this.blocked = blocked;
        this.recorder = recorder;
        this.stageReplies = context.messageAdapter(Stage.Reply.class, StageReplied::new);
        this.replica = replica;
        this.setups = setups;
        this.links = links;
        this.hosts = hosts;
        this.placement = placement;
        this.trainer = trainer;
        StageSetup first = setups.get(0);
        this.loader = new DataLoader(replica, first.replicas(), first.program().microBatches());
        ActorRef<Host.StageSpawned> adapter = context.messageAdapter(Host.StageSpawned.class, StageSpawnedReply::new);
        for (StageSetup s : setups) hosts.get(placement.node(replica, s.rank())).tell(new Host.SpawnStage(s, trainer, adapter));
    }

    /**
     * @param setups one per rank of this replica
     * @param links    the replica's pipeline links and its outgoing ring links (each spawned on its sender's node)
     * @param blocked  where the stages' {@link Stage.Blocked} notices go (the trainer's adapter)
     * @param recorder where the links hand over their step records (the trainer's adapter)
     */
    public static Behavior<Command> create(int replica, List<StageSetup> setups, List<LinkSetup> links,
                                           List<ActorRef<Host.Command>> hosts, NodePlacement placement,
                                           ActorRef<Trainer.Command> trainer, ActorRef<Stage.Blocked> blocked,
                                           ActorRef<Link.Recorded> recorder) {
        return Behaviors.setup(ctx -> new Pipeline(ctx, replica, List.copyOf(setups), List.copyOf(links), List.copyOf(hosts),
                placement, trainer, blocked, recorder));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(StageSpawnedReply.class, this::onStageSpawned)
                .onMessage(Wire.class, this::onWire)
                .onMessage(LinkSpawnedReply.class, this::onLinkSpawned)
                .onMessage(StageReplied.class, this::onStageReplied)
                .onMessage(RunStep.class, this::onRunStep)
                .onMessage(LinkBroken.class, this::onLinkBroken)
                .onSignal(Terminated.class, this::onTerminated)
                .onSignal(PostStop.class, this::onPostStop)
                .build();
    }

    private Behavior<Command> onStageSpawned(StageSpawnedReply r) {
        ActorRef<Stage.Command> stage = r.spawned().stage().unsafeUpcast(); // the host made it with Stage.create
        stages.put(r.spawned().rank(), stage);
        getContext().watch(stage);
        if (stages.size() == setups.size()) trainer.tell(new Trainer.StagesReady(replica, Map.copyOf(stages)));
        return this;
    }

    private Behavior<Command> onWire(Wire w) {
        ActorRef<Host.LinkSpawned> adapter = getContext().messageAdapter(Host.LinkSpawned.class, LinkSpawnedReply::new);
        linksExpected = links.size();
        for (LinkSetup l : links) {
            ActorRef<Stage.Command> target = l.ring() ? w.rightStages().get(l.toRank()) : stages.get(l.toRank());
            hosts.get(placement.node(replica, l.fromRank())).tell(new Host.SpawnLink(l, target, recorder, trainer, adapter));
        }
        if (linksExpected == 0) connect();
        return this;
    }

    private Behavior<Command> onLinkSpawned(LinkSpawnedReply r) {
        spawnedLinks.add(r.spawned());
        getContext().watch(link(r.spawned()));
        if (spawnedLinks.size() == linksExpected) connect();
        return this;
    }

    /** The spawned link's ref, as {@link Link#create} made it. */
    private static ActorRef<Link.Command> link(Host.LinkSpawned spawned) {
        return spawned.link().unsafeUpcast();
    }

    private void connect() {
        ActorRef<Link.Broken> broken = getContext().messageAdapter(Link.Broken.class, LinkBroken::new);
        for (StageSetup s : setups) {
            Map<Integer, ActorRef<Link.Command>> out = new TreeMap<>();
            List<ActorRef<Link.Command>> ring = new ArrayList<>();
            for (Host.LinkSpawned l : spawnedLinks) {
                if (l.setup().fromRank() != s.rank()) continue;
                if (l.setup().ring()) ring.add(link(l));
                else out.put(l.setup().toRank(), link(l));
            }
            stages.get(s.rank()).tell(new Stage.Connect(out, Map.copyOf(stages), ring, stageReplies, blocked, broken));
        }
    }

    private Behavior<Command> onStageReplied(StageReplied r) {
        Stage.Reply reply = r.reply();
        if (reply instanceof Stage.Connected) return onStageConnected();
        if (reply instanceof Stage.Done d) return onStageDone(d);
        if (reply instanceof Stage.RecordPart p) return onRecordPart(p);
        if (reply instanceof Stage.Crashed c) return onStageCrashed(c);
        return onStageFailed((Stage.Failed) reply); // Reply is sealed: the only other kind
    }

    private Behavior<Command> onStageConnected() {
        if (++connected == setups.size()) {
            List<ActorRef<Link.Command>> linkRefs = spawnedLinks.stream().map(Pipeline::link).toList();
            trainer.tell(new Trainer.ReplicaReady(replica, List.copyOf(stages.values()), linkRefs));
        }
        return this;
    }

    private Behavior<Command> onRunStep(RunStep r) {
        step = r.step();
        trainingStep = r.trainingStep();
        failed = false;
        done.clear();
        records.clear();
        parts.clear();
        versions.clear();
        duplicates = 0;
        telemetryLost = 0;
        // a replay resumes from the checkpoint's committed offsets (Kafka-style: consumers rewind to the last commit)
        if (trainingStep < loader.committedSteps()) loader.rewind(trainingStep);
        List<Long> offsets = loader.offsets(trainingStep);
        for (Map.Entry<Integer, ActorRef<Stage.Command>> e : stages.entrySet()) {
            int rank = e.getKey();
            e.getValue().tell(new Stage.RunStep(step, trainingStep, r.epoch(), rank == 0 ? offsets : List.of(),
                    r.faults().getOrDefault(rank, StageFaults.NONE), Optional.ofNullable(r.restore().get(rank))));
        }
        return this;
    }

    private Behavior<Command> onStageCrashed(Stage.Crashed c) {
        if (c.step() != step || failed) return this;
        failed = true;
        trainer.tell(new Trainer.StepFailed(step, replica, c.rank(), c.atSeconds(), c.fault(),
                "replica " + replica + " rank " + c.rank() + ": " + c.reason(), List.copyOf(records.values())));
        return this;
    }

    private Behavior<Command> onLinkBroken(LinkBroken b) {
        Link.Broken x = b.broken();
        if (x.step() != step || failed) return this;
        failed = true;
        trainer.tell(new Trainer.StepFailed(step, replica, -1, x.atSeconds(), x.fault(), x.link() + ": " + x.reason(),
                List.copyOf(records.values())));
        return this;
    }

    private Behavior<Command> onStageDone(Stage.Done d) {
        if (d.report().step() != step || failed) return this;
        done.put(d.report().rank(), d.report());
        versions.put(d.report().rank(), d.version());
        duplicates += d.duplicatesDropped();
        d.record().ifPresent(x -> records.put(x.rank(), joined(x, d.parts())));
        if (!d.losses().isEmpty()) losses = d.losses();
        if (done.size() < setups.size()) return this;
        String problem = loader.commit(trainingStep, done.get(0).consumedOffsets());
        if (!problem.isEmpty()) {
            failed = true;
            trainer.tell(new Trainer.Failed(problem, List.copyOf(records.values())));
            return this;
        }
        trainer.tell(new Trainer.ReplicaDone(step, replica, List.copyOf(done.values()), List.copyOf(records.values()), losses,
                telemetryLost, List.copyOf(versions.values()), duplicates));
        losses = List.of();
        return this;
    }

    private Behavior<Command> onRecordPart(Stage.RecordPart p) {
        if (p.part().step() == step) parts.part(p.part().rank(), p.part());
        return this;
    }

    /** A rank's record from its last part and those before it; one that lost parts keeps its sums and is counted. */
    private StageRecord joined(StageRecord last, int count) {
        PartInbox.Arrived<StageRecord> arrived = parts.last(last.rank(), last, count);
        if (arrived.lost() > 0) {
            telemetryLost++;
            getContext().getLog().warn("replica {} rank {}: {} of {} parts of its record of step {} never arrived",
                    replica, last.rank(), arrived.lost(), count, last.step());
        }
        return RecordParts.joinStage(arrived.parts());
    }

    private Behavior<Command> onStageFailed(Stage.Failed f) {
        if (failed) return this;
        failed = true;
        f.record().ifPresent(x -> records.put(x.rank(), joined(x, f.parts())));
        double at = f.record().flatMap(x -> x.outOfMemory().stream().findFirst()).map(o -> o.atSeconds()).orElse(0.0);
        trainer.tell(new Trainer.StepFailed(step, replica, f.rank(), at, -1, f.message(), List.copyOf(records.values())));
        return this;
    }

    private Behavior<Command> onTerminated(Terminated t) {
        // the trainer tells a lost node (a remote actor) from a bug (a local one) and recovers or ends the run
        trainer.tell(new Trainer.ActorLost(replica, t.getRef()));
        return this;
    }

    private Behavior<Command> onPostStop(PostStop s) {
        for (ActorRef<Stage.Command> stage : stages.values()) {
            getContext().unwatch(stage);
            stage.tell(Stage.Stop.INSTANCE);
        }
        for (Host.LinkSpawned l : spawnedLinks) {
            getContext().unwatch(link(l));
            link(l).tell(Link.Stop.INSTANCE);
        }
        return this;
    }
}
