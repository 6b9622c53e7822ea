package dev.pipelab.pipeline;

import dev.pipelab.cluster.CborSerializable;
import dev.pipelab.cluster.Host;
import dev.pipelab.cluster.NodePlacement;
import dev.pipelab.link.Link;
import dev.pipelab.link.LinkSetup;
import dev.pipelab.stage.Stage;
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
import java.util.TreeMap;

/**
 * The supervisor of one data-parallel replica: has its stages and links spawned on their nodes' {@link Host}s,
 * wires them, starts each step with the data loader's offsets, watches every stage and link, and reports the
 * step to the {@link Trainer} once every rank has finished it and the consumed offsets committed. Invariant:
 * a step is reported only if stage 0 consumed exactly the step's m offsets, each once.
 */
public final class Pipeline extends AbstractBehavior<Pipeline.Command> {

    /** What a pipeline understands. */
    public sealed interface Command extends CborSerializable
            permits Wire, RunStep, StageConnected, StageDone, StageFailed, StageSpawnedReply, LinkSpawnedReply {}

    /** Spawn the links; {@code rightStages} are the next replica's stages by rank (ring neighbours). */
    public record Wire(Map<Integer, ActorRef<Stage.Command>> rightStages) implements Command {}

    /** Run step {@code step}; {@code epoch} anchors step-local time in wall time. Pairing: one {@link Trainer.ReplicaDone}. */
    public record RunStep(int step, long epoch) implements Command {}

    /** A stage is wired (reply to {@link Stage.Connect}). */
    public record StageConnected(int replica, int rank) implements Command {}

    /** A stage finished the step; {@code losses}: real-numerics mode, the last stage's per-micro-batch losses. */
    public record StageDone(StageReport report, List<Double> losses) implements Command {
        public StageDone {
            losses = List.copyOf(losses);
        }

        public StageDone(StageReport report) {
            this(report, List.of());
        }
    }

    /** A stage cannot go on (out of memory under {@code OomPolicy.FAIL}). */
    public record StageFailed(int replica, int rank, String message) implements Command {}

    record StageSpawnedReply(Host.StageSpawned spawned) implements Command {}

    record LinkSpawnedReply(Host.LinkSpawned spawned) implements Command {}

    private final int replica;
    private final List<StageSetup> setups;
    private final List<LinkSetup> links;
    private final List<ActorRef<Host.Command>> hosts;
    private final NodePlacement placement;
    private final ActorRef<Trainer.Command> trainer;
    private final DataLoader loader;
    private final Map<Integer, ActorRef<Stage.Command>> stages = new TreeMap<>();
    private final List<Host.LinkSpawned> spawnedLinks = new ArrayList<>();
    private int linksExpected;
    private int connected;
    private final Map<Integer, StageReport> done = new TreeMap<>();
    private List<Double> losses = List.of();
    private int step = -1;
    private boolean failed;

    private Pipeline(ActorContext<Command> context, int replica, List<StageSetup> setups, List<LinkSetup> links,
                     List<ActorRef<Host.Command>> hosts, NodePlacement placement, ActorRef<Trainer.Command> trainer) {
        super(context);
        this.replica = replica;
        this.setups = setups;
        this.links = links;
        this.hosts = hosts;
        this.placement = placement;
        this.trainer = trainer;
        StageSetup first = setups.get(0);
        this.loader = new DataLoader(replica, first.replicas(), first.program().microBatches());
        ActorRef<Host.StageSpawned> adapter = context.messageAdapter(Host.StageSpawned.class, StageSpawnedReply::new);
        for (StageSetup s : setups) hosts.get(placement.node(replica, s.rank())).tell(new Host.SpawnStage(s, adapter));
    }

    /**
     * @param setups one per rank of this replica
     * @param links  the replica's pipeline links and its outgoing ring links (each spawned on its sender's node)
     */
    public static Behavior<Command> create(int replica, List<StageSetup> setups, List<LinkSetup> links,
                                           List<ActorRef<Host.Command>> hosts, NodePlacement placement,
                                           ActorRef<Trainer.Command> trainer) {
        return Behaviors.setup(ctx -> new Pipeline(ctx, replica, List.copyOf(setups), List.copyOf(links), List.copyOf(hosts),
                placement, trainer));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(StageSpawnedReply.class, this::onStageSpawned)
                .onMessage(Wire.class, this::onWire)
                .onMessage(LinkSpawnedReply.class, this::onLinkSpawned)
                .onMessage(StageConnected.class, this::onStageConnected)
                .onMessage(RunStep.class, this::onRunStep)
                .onMessage(StageDone.class, this::onStageDone)
                .onMessage(StageFailed.class, this::onStageFailed)
                .onSignal(Terminated.class, this::onTerminated)
                .onSignal(PostStop.class, this::onPostStop)
                .build();
    }

    private Behavior<Command> onStageSpawned(StageSpawnedReply r) {
        stages.put(r.spawned().rank(), r.spawned().stage());
        getContext().watch(r.spawned().stage());
        if (stages.size() == setups.size()) trainer.tell(new Trainer.StagesReady(replica, Map.copyOf(stages)));
        return this;
    }

    private Behavior<Command> onWire(Wire w) {
        ActorRef<Host.LinkSpawned> adapter = getContext().messageAdapter(Host.LinkSpawned.class, LinkSpawnedReply::new);
        linksExpected = links.size();
        for (LinkSetup l : links) {
            ActorRef<Stage.Command> target = l.ring() ? w.rightStages().get(l.toRank()) : stages.get(l.toRank());
            hosts.get(placement.node(replica, l.fromRank())).tell(new Host.SpawnLink(l, target, adapter));
        }
        if (linksExpected == 0) connect();
        return this;
    }

    private Behavior<Command> onLinkSpawned(LinkSpawnedReply r) {
        spawnedLinks.add(r.spawned());
        getContext().watch(r.spawned().link());
        if (spawnedLinks.size() == linksExpected) connect();
        return this;
    }

    private void connect() {
        for (StageSetup s : setups) {
            Map<Integer, ActorRef<Link.Command>> out = new TreeMap<>();
            List<ActorRef<Link.Command>> ring = new ArrayList<>();
            for (Host.LinkSpawned l : spawnedLinks) {
                if (l.setup().fromRank() != s.rank()) continue;
                if (l.setup().ring()) ring.add(l.link());
                else out.put(l.setup().toRank(), l.link());
            }
            stages.get(s.rank()).tell(new Stage.Connect(out, Map.copyOf(stages), ring, getContext().getSelf(), trainer));
        }
    }

    private Behavior<Command> onStageConnected(StageConnected c) {
        if (++connected == setups.size()) {
            List<ActorRef<Link.Command>> linkRefs = spawnedLinks.stream().map(Host.LinkSpawned::link).toList();
            trainer.tell(new Trainer.ReplicaReady(replica, List.copyOf(stages.values()), linkRefs));
        }
        return this;
    }

    private Behavior<Command> onRunStep(RunStep r) {
        step = r.step();
        done.clear();
        List<Long> offsets = loader.offsets(step);
        for (Map.Entry<Integer, ActorRef<Stage.Command>> e : stages.entrySet()) {
            e.getValue().tell(new Stage.RunStep(step, r.epoch(), e.getKey() == 0 ? offsets : List.of()));
        }
        return this;
    }

    private Behavior<Command> onStageDone(StageDone d) {
        if (d.report().step() != step || failed) return this;
        done.put(d.report().rank(), d.report());
        if (!d.losses().isEmpty()) losses = d.losses();
        if (done.size() < setups.size()) return this;
        String problem = loader.commit(step, done.get(0).consumedOffsets());
        if (!problem.isEmpty()) {
            failed = true;
            trainer.tell(new Trainer.Failed(problem));
            return this;
        }
        trainer.tell(new Trainer.ReplicaDone(step, replica, List.copyOf(done.values()), losses));
        losses = List.of();
        return this;
    }

    private Behavior<Command> onStageFailed(StageFailed f) {
        failed = true;
        trainer.tell(new Trainer.Failed(f.message()));
        return this;
    }

    private Behavior<Command> onTerminated(Terminated t) {
        if (!failed) {
            failed = true;
            trainer.tell(new Trainer.Failed("replica " + replica + ": " + t.getRef().path().name() + " stopped unexpectedly"));
        }
        return this;
    }

    private Behavior<Command> onPostStop(PostStop s) {
        for (ActorRef<Stage.Command> stage : stages.values()) {
            getContext().unwatch(stage);
            stage.tell(Stage.Stop.INSTANCE);
        }
        for (Host.LinkSpawned l : spawnedLinks) {
            getContext().unwatch(l.link());
            l.link().tell(Link.Stop.INSTANCE);
        }
        return this;
    }
}
