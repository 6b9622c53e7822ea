package dev.pipelab.pipeline;

import dev.pipelab.clock.Clock;
import dev.pipelab.cluster.Host;
import dev.pipelab.cluster.NodePlacement;
import dev.pipelab.fault.Fault;
import dev.pipelab.fault.FaultDraws;
import dev.pipelab.fault.FaultKind;
import dev.pipelab.fault.FaultTarget;
import dev.pipelab.fault.FaultTimeline;
import dev.pipelab.fault.FaultWindow;
import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RecoveryBook;
import dev.pipelab.fault.RecoverySpec;
import dev.pipelab.link.CreditWindow;
import dev.pipelab.link.Link;
import dev.pipelab.link.LinkSetup;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.numerics.Param;
import dev.pipelab.numerics.WeightsFile;
import dev.pipelab.protocol.CborSerializable;
import dev.pipelab.protocol.Control;
import dev.pipelab.protocol.Payload;
import dev.pipelab.protocol.RecordParts;
import dev.pipelab.schedule.ScheduleText;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.stage.Stage;
import dev.pipelab.stage.StageFaults;
import dev.pipelab.stage.StageProgram;
import dev.pipelab.stage.StageReport;
import dev.pipelab.stage.StageSetup;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The run's coordinator: one {@link Pipeline} per data-parallel replica, steps run one after another in
 * step-local time (each starts at 0; the run's axis is the running sum of step times), deadlock detection by
 * message counting. Invariant: step k+1 starts only after every replica completed and committed step k; the
 * result future completes exactly once, with the completed steps and how the run ended.
 *
 * <p>It is the only actor that emits telemetry: each stage's record of a step rides on its replica's
 * {@link ReplicaDone}, each link hands over its own ({@link LinkRecorded}); once all of a step's are in, in whatever
 * order they came, one {@link Event.StepEnded} carries them in canonical order. A step that will never complete
 * (deadlock, failure) is emitted as {@link Event.StepAbandoned} with what its actors recorded, before the result.
 */
public final class Trainer extends AbstractBehavior<Trainer.Command> {

    /** What the trainer understands. */
    public sealed interface Command extends CborSerializable
            permits StagesReady, ReplicaReady, ReplicaDone, Failed, StepFailed, StageBlocked, ProbeReply, ProbeNow,
            WeightsReported, CheckpointReply, ActorLost, LinkRecorded, FlushedReply, TelemetryOverdue {}

    /** A replica's stages are spawned (by rank). */
    public record StagesReady(int replica, Map<Integer, ActorRef<Stage.Command>> stages) implements Command {}

    /** A replica is wired: its stages and links (probed for quiescence). */
    public record ReplicaReady(int replica, List<ActorRef<Stage.Command>> stages, List<ActorRef<Link.Command>> links)
            implements Command {}

    /**
     * A replica completed and committed {@code step}; one report per rank, the ranks' records of the step (none with
     * telemetry off); {@code losses}: real-numerics mode, the replica's per-micro-batch losses (empty otherwise);
     * {@code telemetryLost}: ranks whose record came with parts missing.
     */
    public record ReplicaDone(int step, int replica, List<StageReport> reports, List<StageRecord> records, List<Double> losses,
                              int telemetryLost, List<Integer> versions, int duplicatesDropped) implements Command {
        public ReplicaDone {
            reports = List.copyOf(reports);
            records = List.copyOf(records);
            losses = List.copyOf(losses);
            versions = List.copyOf(versions);
        }

        /** Every rank's model at version {@code step + 1}, no duplicate dropped. */
        public ReplicaDone(int step, int replica, List<StageReport> reports, List<StageRecord> records, List<Double> losses,
                           int telemetryLost) {
            this(step, replica, reports, records, losses, telemetryLost,
                    java.util.Collections.nCopies(reports.size(), step + 1), 0);
        }

        public ReplicaDone(int step, int replica, List<StageReport> reports, List<StageRecord> records, List<Double> losses) {
            this(step, replica, reports, records, losses, 0);
        }
    }

    /**
     * Attempt {@code step} cannot complete: replica {@code replica}'s rank {@code rank} (-1: a link) failed at
     * {@code atSeconds} (step-local) because of fault {@code fault} (-1: none known); {@code records} what its ranks
     * recorded so far. The run recovers from the last checkpoint, or ends when it cannot.
     */
    public record StepFailed(int step, int replica, int rank, double atSeconds, int fault, String reason,
                             List<StageRecord> records) implements Command {
        public StepFailed {
            records = List.copyOf(records);
        }
    }

    /** A rank's checkpoint came in. */
    record CheckpointReply(Stage.CheckpointTaken taken) implements Command {}

    /** A stage or link of replica {@code replica}, watched by its pipeline, stopped (see {@link #onActorLost}). */
    public record ActorLost(int replica, ActorRef<?> actor) implements Command {}

    /** Real-numerics mode: a rank's weights, one {@code WeightsFile} per model stage in chunk order (see {@link Stage.ReportWeights}). */
    public record WeightsReported(int replica, int rank, List<Payload> stages) implements Command {
        public WeightsReported {
            stages = List.copyOf(stages);
        }
    }

    /** The run cannot go on: why, and the records of the step's stages that had any (done or failed). */
    public record Failed(String message, List<StageRecord> records) implements Command {
        public Failed {
            records = List.copyOf(records);
        }

        public Failed(String message) {
            this(message, List.of());
        }
    }

    /** A stage of {@code step} has nothing it can start (it may be waiting for a message in flight). */
    public record StageBlocked(int step) implements Command {}

    record ProbeReply(Control.Report report) implements Command {}

    /** A link handed over its record of a step, or part {@code part} of {@code parts} of it ({@link Link.Recorded}). */
    record LinkRecorded(LinkRecord record, int part, int parts) implements Command {}

    /** Every replica finished {@code step} a while ago and some link records are still missing: they are lost. */
    record TelemetryOverdue(int step) implements Command {}

    /** Time to send probe wave {@code wave}, which {@link #probe} put off. */
    record ProbeNow(int wave) implements Command {}

    /** A stage or link handed over its record so far, after a {@link Stage.Flush} or {@link Link.Flush}. */
    record FlushedReply(Control.Flushed flushed) implements Command {}

    /** Name of the child that receives weights files; {@code large-message-destinations} in pipelab.conf matches it. */
    public static final String WEIGHTS_INBOX = "real-weights";

    private final RunSpec spec;
    private final RunOptions options;
    private final CompletableFuture<RunResult> result;
    private final Clock clock;
    private final List<ActorRef<Pipeline.Command>> pipelines = new ArrayList<>();
    private final List<List<StageSetup>> replicaSetups = new ArrayList<>();
    private final List<List<LinkSetup>> replicaLinks = new ArrayList<>();
    private final List<ActorRef<Host.Command>> hosts;
    /** Where the stages run; a lost node's stages move to surviving workers ({@link NodePlacement#without}). */
    private NodePlacement placement;
    private final ActorRef<Stage.Blocked> blocked;
    private final ActorRef<Link.Recorded> recorder;
    /** How many times the replicas were spawned again after a node was lost. */
    private int generation;
    /** Nodes lost so far (indexes into {@link #hosts}). */
    private final java.util.Set<Integer> lostNodes = new java.util.TreeSet<>();
    /** After a respawn: the attempt to start (training step) once every replica is wired again; -1: none pending. */
    private int resumeAt = -1;
    /**
     * A node fault was carried out in the current attempt: the attempt fails at this step-local time once the node's
     * loss is detected (its replicas' completion does not count); NaN: none. With the fault's index and wall time.
     */
    private double doomedAt = Double.NaN;
    private int doomFault = -1;
    private long doomNanos;
    /** After a lost node: the recovery's event, emitted with its wall times once the replicas run again; when the loss was heard of. */
    private Event.Recovered pendingRecovered;
    private long lossHeardNanos;
    /** Whether the lost node was killed by a fault of this run, so that the wall time to notice it is known. */
    private boolean timedLoss;
    private final Map<Integer, Map<Integer, ActorRef<Stage.Command>>> stagesByReplica = new TreeMap<>();
    private final List<ActorRef<Stage.Command>> probedStages = new ArrayList<>();
    /** Least wall time between two probe waves (see {@link #probe}), per {@link #PROBED_PER_GAP} actors probed. */
    private static final long PROBE_GAP_NANOS = 10_000_000L;
    private static final int PROBED_PER_GAP = 1_000;
    private long lastProbeNanos = System.nanoTime() - PROBE_GAP_NANOS;
    private boolean probeScheduled;
    /** Set once a deadlock is found; the run ends when every stage and link has flushed ({@link FlushedReply}). */
    private RunResult.Deadlock deadlock;
    private int flushesLeft;
    private final List<ActorRef<Link.Command>> probedLinks = new ArrayList<>();
    private final ActorRef<Control.Report> probeAdapter;
    private final ActorRef<Control.Flushed> flushAdapter;
    /** The current step's records so far. */
    private final StepRecords records;
    /** Parts of the current step's link records whose last part has not come yet. */
    private final PartInbox<List<Integer>, LinkRecord> linkParts = new PartInbox<>();
    /** Parts of the flushed records, by who flushed them, until each one's last. */
    private final PartInbox<String, Control.Flushed> flushParts = new PartInbox<>();
    /**
     * How long link records may come after every replica finished the step; a link's record that has not come by then
     * is counted lost and the step ends without it (pipelab.telemetry-grace, docs/telemetry.md).
     */
    private final Duration telemetryGrace;
    private boolean overdueScheduled;
    /** Whether the current step has started and not ended. */
    private boolean stepOpen;
    private List<Param> finalWeights = List.of();
    private int ready;
    private Quiescence quiescence;
    private int step = -1;
    private double runSeconds;
    private final Map<Integer, List<StageReport>> replicaReports = new TreeMap<>();
    private final List<RunResult.StepResult> steps = new ArrayList<>();
    private final Map<Integer, List<Double>> replicaLosses = new TreeMap<>();
    private final List<Double> losses = new ArrayList<>();
    private final Map<Integer, List<Payload>> weightsByRank = new TreeMap<>();
    /** When each fault acts (docs/faults.md). */
    private final FaultTimeline faults;
    /** The random interruptions still to come (scenario {@code faults.random}), read as the run's axis advances. */
    private final Optional<FaultDraws> draws;
    /** The next random interruption, not yet on the timeline. */
    private FaultDraws.Draw ahead;
    /** The random interruptions on the timeline, by fault index: their kind's detection and repair. */
    private final Map<Integer, FaultDraws.Draw> drawn = new java.util.HashMap<>();
    /** The last attempt's step time: how far ahead the random interruptions are put on the timeline. */
    private double lastStepSeconds;
    /** The training step the current attempt runs ({@link #step} numbers attempts). */
    private int trainingStep;
    /** Where the current attempt began on the run's axis. */
    private double attemptStart;
    /** The training steps that count, the last checkpoint and what recoveries cost (pure: {@link Lineage}). */
    private final Lineage lineage;
    /** One replica's parameters, gradients and optimizer state: the modelled size of a checkpoint (emulated mode). */
    private final long checkpointBytes;
    private final Map<Integer, List<Payload>> checkpointParts = new TreeMap<>();
    private final Map<Integer, List<Integer>> replicaVersions = new TreeMap<>();
    private long duplicatesDropped;

    private Trainer(ActorContext<Command> context, RunSpec spec, RunOptions options, List<ActorRef<Host.Command>> hosts,
                    NodePlacement placement, CompletableFuture<RunResult> result) {
        super(context);
        this.spec = spec;
        this.options = options;
        this.result = result;
        this.clock = Clock.of(options.clock(), options.speed());
        this.probeAdapter = context.messageAdapter(Control.Report.class, ProbeReply::new);
        this.flushAdapter = context.messageAdapter(Control.Flushed.class, FlushedReply::new);
        ActorRef<Stage.Blocked> blocked = context.messageAdapter(Stage.Blocked.class, Trainer::blocked);
        ActorRef<Link.Recorded> recorder = context.messageAdapter(Link.Recorded.class, Trainer::recorded);
        TelemetryLevel level = options.telemetry();
        // links that hand over a record each step: those that carry anything, unless telemetry is off
        int linkRecordsPerStep = 0;
        int p = spec.schedule().ranks();
        int d = spec.replicas();
        List<StageProgram> programs = StageProgram.all(spec.schedule(), spec.costs());
        if (hosts.size() > 1 && spec.linkBuffer() == CreditWindow.UNBOUNDED) {
            // Artery drops remote sends beyond 3072 queued per node pair (docs/architecture.md, Cluster); only credit bounds the bursts
            context.getLog().warn("unbounded link buffers on {} nodes: up to {} messages per link may be in flight at once; "
                    + "set a linkBuffer to bound the traffic between nodes", hosts.size(), spec.schedule().microBatches());
        }
        for (int x = 0; x < d; x++) {
            List<StageSetup> setups = new ArrayList<>(p);
            List<LinkSetup> links = new ArrayList<>();
            for (int r = 0; r < p; r++) {
                for (int q : programs.get(r).outgoingRanks()) {
                    links.add(LinkSetup.pipeline(x, r, q, spec.network().link(r, q), options.clock(), options.speed(),
                            programs.get(r).messagesTo(q), level));
                }
                int ringMessages = ringMessages(programs.get(r));
                setups.add(new StageSetup(x, d, programs.get(r).data(), spec.linkBuffer(), spec.memoryBytes(),
                        options.oom(), options.clock(), options.speed(), spec.real(), level));
                if (ringMessages > 0) {
                    links.add(LinkSetup.ring(x, (x + 1) % d, r, options.clock(), options.speed(), ringMessages, level));
                }
            }
            if (level != TelemetryLevel.OFF) {
                linkRecordsPerStep += (int) links.stream().filter(l -> l.messagesPerStep() > 0).count();
            }
            replicaSetups.add(List.copyOf(setups));
            replicaLinks.add(List.copyOf(links));
        }
        this.hosts = hosts;
        this.placement = placement;
        this.blocked = blocked;
        this.recorder = recorder;
        spawnReplicas();
        this.records = new StepRecords(d, linkRecordsPerStep);
        this.faults = new FaultTimeline(options.faults());
        this.draws = options.randomFaults().map(r -> new FaultDraws(r.rates(), d, spec.schedule().ranks(), r.tensor(), r.devicesPerNode()));
        this.ahead = draws.map(FaultDraws::next).orElse(null);
        this.checkpointBytes = spec.checkpointBytes();
        this.lineage = new Lineage(spec.schedule().microBatches(), options.recovery(),
                options.randomFaults().map(r -> r.rates().spares()).orElse(0));
        this.telemetryGrace = context.getSystem().settings().config().getDuration("pipelab.telemetry-grace");
    }

    /** Spawns one {@link Pipeline} per replica over {@link #placement} (again after a node was lost: a new generation). */
    private void spawnReplicas() {
        for (int x = 0; x < spec.replicas(); x++) {
            ActorRef<Pipeline.Command> pipeline = getContext().spawn(Pipeline.create(x, replicaSetups.get(x), replicaLinks.get(x),
                    hosts, placement, getContext().getSelf(), blocked, recorder), "replica-" + x + (generation > 0 ? "-" + generation : ""));
            getContext().watch(pipeline);
            pipelines.add(pipeline);
        }
    }

    private static Command blocked(Stage.Blocked b) {
        return new StageBlocked(b.step());
    }

    private static Command recorded(Link.Recorded r) {
        return new LinkRecorded(r.record(), r.part(), r.parts());
    }

    /** A link record's sender: the link's direction. */
    private static List<Integer> linkKey(LinkRecord r) {
        return List.of(r.replica(), r.toReplica(), r.fromRank(), r.toRank(), r.ring() ? 1 : 0);
    }

    /** Ring chunks a rank sends per step: every step of each of its model stages' all-reduce (0: it needs no ring). */
    private int ringMessages(StageProgram program) {
        int n = 0;
        for (int c = 0; c < program.chunks(); c++) {
            StageCost sc = spec.costs().get(program.stageOfChunk(c));
            n += sc.allReduce().steps();
        }
        return n;
    }

    /**
     * @param hosts     the nodes' hosts, indexed as {@code placement} numbers them
     * @param result    completed once with the run's outcome
     */
    public static Behavior<Command> create(RunSpec spec, RunOptions options, List<ActorRef<Host.Command>> hosts,
                                           NodePlacement placement, CompletableFuture<RunResult> result) {
        return Behaviors.setup(ctx -> new Trainer(ctx, spec, options, List.copyOf(hosts), placement, result));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(StagesReady.class, this::onStagesReady)
                .onMessage(ReplicaReady.class, this::onReplicaReady)
                .onMessage(ReplicaDone.class, this::onReplicaDone)
                .onMessage(Failed.class, this::onFailed)
                .onMessage(StepFailed.class, this::onStepFailed)
                .onMessage(CheckpointReply.class, this::onCheckpointReply)
                .onMessage(ActorLost.class, this::onActorLost)
                .onMessage(StageBlocked.class, this::onStageBlocked)
                .onMessage(ProbeReply.class, this::onProbeReply)
                .onMessage(ProbeNow.class, p -> {
                    probeScheduled = false;
                    sendProbes();
                    return this;
                })
                .onMessage(FlushedReply.class, this::onFlushed)
                .onMessage(LinkRecorded.class, this::onLinkRecorded)
                .onMessage(TelemetryOverdue.class, this::onTelemetryOverdue)
                .onMessage(WeightsReported.class, this::onWeightsReported)
                .onSignal(Terminated.class, this::onTerminated)
                .build();
    }

    private Behavior<Command> onStagesReady(StagesReady r) {
        stagesByReplica.put(r.replica(), r.stages());
        if (stagesByReplica.size() < spec.replicas()) return this;
        for (int x = 0; x < spec.replicas(); x++) {
            pipelines.get(x).tell(new Pipeline.Wire(stagesByReplica.get((x + 1) % spec.replicas())));
        }
        return this;
    }

    private Behavior<Command> onReplicaReady(ReplicaReady r) {
        probedStages.addAll(r.stages());
        probedLinks.addAll(r.links());
        if (++ready < spec.replicas()) return this;
        quiescence = new Quiescence(probedStages.size() + probedLinks.size());
        if (resumeAt >= 0) {
            int training = resumeAt;
            resumeAt = -1;
            if (pendingRecovered != null) {
                Event.Recovered e = pendingRecovered;
                double wallDetect = timedLoss ? (lossHeardNanos - doomNanos) / 1e9 : Double.NaN;
                options.sink().emit(new Event.Recovered(e.step(), e.fault(), e.reason(), e.failedAtSeconds(), e.detectedAtSeconds(),
                        e.recoveredAtSeconds(), e.resumedFromStep(), e.replayedSteps(), e.lostWorkSeconds(), wallDetect,
                        (System.nanoTime() - lossHeardNanos) / 1e9));
                pendingRecovered = null;
            }
            startStep(step + 1, training, true);
        } else {
            startStep(0, 0, false);
        }
        return this;
    }

    /**
     * Starts attempt {@code k} at training step {@code training}; {@code restore}: every rank is put back to the last
     * checkpoint first.
     */
    private void startStep(int k, int training, boolean restore) {
        step = k;
        trainingStep = training;
        attemptStart = runSeconds;
        for (Fault f : options.liveFaults().take()) {
            int i = faults.inject(f);
            getContext().getLog().info("live fault {} ({}) acts from attempt {}", i, f.describe(), k);
        }
        // the interruptions this attempt is likely to see reach its stages as crash windows, so that they really crash;
        // whether the attempt fails is decided from the timeline (firstCrash), not from which stage says so first
        pullDraws(runSeconds + 2 * lastStepSeconds);
        faults.begin(training, runSeconds);
        stepOpen = true;
        doomedAt = Double.NaN;
        carryOutNodeFaults();
        replicaReports.clear();
        records.begin(k);
        linkParts.clear();
        overdueScheduled = false;
        replicaLosses.clear();
        quiescence.newStep(k);
        long perStep = (long) spec.schedule().microBatches() * spec.replicas();
        options.sink().emit(new Event.StepStarted(k, runSeconds, training * perStep, spec.schedule().microBatches()));
        long epoch = clock.epoch();
        Map<FaultTarget, List<FaultWindow>> windows = faults.windowsByTarget();
        for (int x = 0; x < pipelines.size(); x++) {
            Map<Integer, Stage.Restore> restores = new TreeMap<>();
            if (restore) {
                for (int r = 0; r < spec.schedule().ranks(); r++) {
                    restores.put(r, new Stage.Restore(lineage.checkpointStep(), lineage.checkpointState().getOrDefault(r, List.of())));
                }
            }
            pipelines.get(x).tell(new Pipeline.RunStep(k, training, epoch, stageFaults(x, windows), restores));
        }
    }

    /**
     * Node faults are carried out on the real processes when the attempt they fall in starts (in virtual time emulated
     * and wall time are unrelated, so the wall moment cannot follow the emulated one): a {@code node.kill} kills the
     * worker's JVM and dooms the attempt, which fails at the fault's moment once the node's loss is detected; a
     * {@code node.pause} stops the JVM for the fault's duration in wall seconds (its emulated effect is a stall of the
     * node's stages, {@code StageState}).
     */
    private void carryOutNodeFaults() {
        for (int i = 0; i < faults.faults().size(); i++) {
            Fault f = faults.fault(i);
            if (f.kind().target() != FaultKind.Target.NODE || faults.hasFired(i) || Double.isNaN(faults.injectAt(i))) continue;
            int node = ((FaultTarget.Node) f.target()).index();
            if (node >= hosts.size() || lostNodes.contains(node)) continue;
            faults.fired(i);
            if (f.kind() == FaultKind.NODE_KILL) {
                faults.injectedSaid(i);
                options.sink().emit(new Event.FaultInjected(step, Math.max(faults.injectAt(i), attemptStart), i, f.kind().key(),
                        f.target().toString(), f.describe()));
                doomedAt = Math.max(0, faults.injectAt(i) - attemptStart);
                doomFault = i;
                doomNanos = System.nanoTime();
                hosts.get(node).tell(Host.Kill.INSTANCE);
            } else {
                // the emulated stall is given to the node's stages as windows (stageFaults); the wall pause is real
                hosts.get(node).tell(new Host.Pause(Math.min(f.durationSeconds(), MAX_PAUSE_SECONDS)));
            }
        }
    }

    /** The longest real SIGSTOP a {@code node.pause} holds a JVM (wall seconds); the emulated stall is not capped. */
    static final double MAX_PAUSE_SECONDS = 60;

    /** The current attempt's faults on replica {@code x}'s ranks and their outgoing links, by rank (none: empty). */
    private Map<Integer, StageFaults> stageFaults(int x, Map<FaultTarget, List<FaultWindow>> windows) {
        if (faults.isEmpty()) return Map.of(); // (live faults make it non-empty)
        Map<Integer, StageFaults> out = new TreeMap<>();
        int p = spec.schedule().ranks();
        for (int r = 0; r < p; r++) {
            List<FaultWindow> stage = new ArrayList<>(windows.getOrDefault(new FaultTarget.Stage(x, r), List.of()));
            for (FaultWindow w : windows.getOrDefault(new FaultTarget.Node(placement.node(x, r)), List.of())) {
                if (w.kind() == FaultKind.NODE_PAUSE) stage.add(w);
            }
            Map<Integer, List<FaultWindow>> links = new TreeMap<>();
            for (int q = 0; q < p; q++) {
                List<FaultWindow> w = windows.getOrDefault(new FaultTarget.Link(x, r, q), List.of());
                if (!w.isEmpty()) links.put(q, w);
            }
            List<FaultWindow> ring = windows.getOrDefault(new FaultTarget.Ring(x, r), List.of());
            StageFaults f = new StageFaults(stage, links, ring, options.recovery().retransmitSeconds(),
                    options.recovery().timeoutSeconds());
            if (!f.isEmpty()) out.put(r, f);
        }
        return out;
    }

    private Behavior<Command> onReplicaDone(ReplicaDone d) {
        if (d.step() != step || !Double.isNaN(doomedAt)) return this; // a doomed attempt fails, however far it got
        replicaReports.put(d.replica(), d.reports());
        replicaVersions.put(d.replica(), d.versions());
        duplicatesDropped += d.duplicatesDropped();
        records.replicaDone(d.replica(), d.records());
        records.lost(d.telemetryLost());
        replicaLosses.put(d.replica(), d.losses());
        return endStepIfComplete();
    }

    private Behavior<Command> onLinkRecorded(LinkRecorded r) {
        if (!stepOpen || r.record().step() != step) return this;
        if (r.part() < r.parts() - 1) {
            linkParts.part(linkKey(r.record()), r.record());
            return this;
        }
        PartInbox.Arrived<LinkRecord> arrived = linkParts.last(linkKey(r.record()), r.record(), r.parts());
        if (arrived.lost() > 0) linkLost(r.record(), arrived.lost() + " of " + r.parts() + " parts never arrived");
        records.linkRecorded(RecordParts.joinLink(arrived.parts()));
        return endStepIfComplete();
    }

    private void linkLost(LinkRecord r, String what) {
        records.lost(1);
        getContext().getLog().warn("the record of link {} {}->{} (replica {}) of step {}: {}", r.ring() ? "ring" : "pipeline",
                r.fromRank(), r.toRank(), r.replica(), r.step(), what);
    }

    /**
     * The step's replicas are all done and link records are still missing after the grace: the step ends without them,
     * each counted lost. A link whose first parts came keeps them (its sums are exact, some transfers are missing).
     */
    private Behavior<Command> onTelemetryOverdue(TelemetryOverdue o) {
        if (!stepOpen || o.step() != step || records.complete()) return this;
        linkParts.drain().forEach((key, parts) -> {
            linkLost(parts.get(0), "its last part never arrived");
            records.linkRecorded(RecordParts.joinLink(parts));
        });
        int missing = records.missingLinks();
        if (missing > 0) {
            records.lost(missing);
            getContext().getLog().warn("step {}: {} link record(s) never arrived within {} after every replica finished",
                    step, missing, telemetryGrace);
        }
        return endStep();
    }

    /**
     * Ends the step once every replica is done and every link that carries anything has handed over its record (they
     * come in either order), with one {@link Event.StepEnded} holding every record in canonical order. Once every
     * replica is done, missing link records get {@link #telemetryGrace} to come (see {@link #onTelemetryOverdue}).
     */
    private Behavior<Command> endStepIfComplete() {
        if (!records.complete()) {
            if (records.replicasDone() && !overdueScheduled) {
                overdueScheduled = true;
                getContext().scheduleOnce(telemetryGrace, getContext().getSelf(), new TelemetryOverdue(step));
            }
            return this;
        }
        return endStep();
    }

    private Behavior<Command> endStep() {
        double stepTime = 0;
        List<StageReport> all = new ArrayList<>();
        for (List<StageReport> reports : replicaReports.values()) {
            for (StageReport r : reports) {
                stepTime = Math.max(stepTime, r.optimizerEnd());
                all.add(r);
            }
        }
        lastStepSeconds = stepTime;
        // a crash before the attempt's end fails it, even when its stage had nothing left to run at that moment
        double end = attemptStart + stepTime;
        pullDraws(end);
        int crash = faults.firstCrash(attemptStart, Math.nextDown(end));
        if (crash >= 0) return failAttempt(crash, Math.max(faults.injectAt(crash), attemptStart), crashReason(crash), List.of());
        stepOpen = false;
        if (spec.real().isPresent()) {
            // the sequential reference's order: replica by replica, micro-batch by micro-batch, from 0
            double sum = 0;
            for (List<Double> l : replicaLosses.values()) for (double x : l) sum += x;
            double loss = sum / ((double) spec.schedule().microBatches() * spec.replicas());
            losses.add(loss);
            options.sink().emit(new Event.StepLoss(step, loss));
        }
        steps.add(new RunResult.StepResult(step, stepTime, runSeconds, all));
        runSeconds += stepTime;
        long perStep = (long) spec.schedule().microBatches() * spec.replicas();
        options.sink().emit(new Event.StepEnded(step, stepTime, runSeconds, (trainingStep + 1) * perStep, records.stages(),
                records.links(), records.lost()));
        String unbalanced = commit(stepTime);
        if (!unbalanced.isEmpty()) return finish(RunResult.Status.FAILED, Optional.empty(), Optional.of(unbalanced));
        sayFaults(runSeconds);
        if (lineage.checkpointDue(trainingStep)) return takeCheckpoint();
        return next();
    }

    /**
     * Commits the attempt's training step to the ledger (docs/faults.md): every replica consumed exactly its m
     * offsets, none consumed before in the lineage, and every rank's model is at version {@code trainingStep + 1}
     * (the optimizer applied exactly once since the checkpoint the step descends from). Returns what is wrong, or "".
     */
    private String commit(double stepTime) {
        List<Event.Consumed> consumed = new ArrayList<>();
        for (Map.Entry<Integer, List<StageReport>> e : replicaReports.entrySet()) {
            List<Long> offsets = e.getValue().get(0).consumedOffsets();
            List<Integer> applied = replicaVersions.get(e.getKey()).stream().map(v -> v - trainingStep).toList();
            consumed.add(new Event.Consumed(e.getKey(), offsets, applied));
        }
        options.sink().emit(new Event.StepCommitted(step, trainingStep, consumed));
        return lineage.commit(trainingStep, stepTime, consumed);
    }

    /** Says the faults injected and healed by {@code t}. */
    private void sayFaults(double t) {
        for (int i : faults.injectedBy(t)) {
            Fault f = faults.fault(i);
            options.sink().emit(new Event.FaultInjected(step, faults.injectAt(i), i, f.kind().key(), f.target().toString(), f.describe()));
        }
        for (int i : faults.healedBy(t)) options.sink().emit(new Event.FaultHealed(step, faults.healAt(i), i));
    }

    /** Takes a checkpoint after the current training step: real-numerics mode asks replica 0's ranks for their state. */
    private Behavior<Command> takeCheckpoint() {
        if (spec.real().isEmpty()) return checkpointed(Map.of(), checkpointBytes);
        checkpointParts.clear();
        ActorRef<Stage.CheckpointTaken> adapter = getContext().messageAdapter(Stage.CheckpointTaken.class, CheckpointReply::new);
        for (ActorRef<Stage.Command> s : stagesByReplica.get(0).values()) s.tell(new Stage.TakeCheckpoint(adapter));
        return this;
    }

    private Behavior<Command> onCheckpointReply(CheckpointReply r) {
        checkpointParts.put(r.taken().rank(), r.taken().state());
        if (checkpointParts.size() < spec.schedule().ranks()) return this;
        long bytes = 0;
        for (List<Payload> l : checkpointParts.values()) for (Payload x : l) bytes += x.bytes().length;
        return checkpointed(Map.copyOf(checkpointParts), bytes);
    }

    /** The checkpoint is written: it costs its bytes over the storage bandwidth, in emulated time. */
    private Behavior<Command> checkpointed(Map<Integer, List<Payload>> state, long bytes) {
        double seconds = lineage.checkpointed(trainingStep, state, bytes);
        runSeconds += seconds;
        options.sink().emit(new Event.Checkpointed(step, trainingStep, runSeconds, seconds, bytes));
        return next();
    }

    /** The next training step, or the end of the run. */
    private Behavior<Command> next() {
        if (trainingStep + 1 < options.steps()) {
            startStep(step + 1, trainingStep + 1, false);
            return this;
        }
        if (spec.real().isPresent()) {
            // weights files exceed the ordinary frame: they come through a named inbox on the large-message lane
            ActorRef<Command> self = getContext().getSelf();
            ActorRef<Stage.WeightsReported> inbox = getContext().spawn(Behaviors.receive(Stage.WeightsReported.class)
                    .onMessage(Stage.WeightsReported.class, w -> {
                        self.tell(new WeightsReported(w.replica(), w.rank(), w.stages()));
                        return Behaviors.same();
                    }).build(), WEIGHTS_INBOX);
            for (ActorRef<Stage.Command> s : stagesByReplica.get(0).values()) s.tell(new Stage.ReportWeights(inbox));
            return this;
        }
        return finish(RunResult.Status.COMPLETED, Optional.empty(), Optional.empty());
    }

    private Behavior<Command> onWeightsReported(WeightsReported w) {
        weightsByRank.put(w.rank(), w.stages());
        if (weightsByRank.size() < spec.schedule().ranks()) return this;
        List<Param> weights = new ArrayList<>();
        try {
            for (int k = 0; k < spec.schedule().stages(); k++) {
                weights.addAll(WeightsFile.decode(weightsByRank.get(spec.schedule().rankOf(k)).get(spec.schedule().chunkOf(k)).bytes(), "stage " + k));
            }
        } catch (WeightsFile.WeightsFormatException e) {
            return finish(RunResult.Status.FAILED, Optional.empty(), Optional.of("weights of a stage: " + e.getMessage()));
        }
        finalWeights = weights;
        return finish(RunResult.Status.COMPLETED, Optional.empty(), Optional.empty());
    }

    /**
     * The attempt failed: every replica's work in it is lost (training is synchronous). With a checkpoint, the failed
     * ranks are restarted (a crashed actor was already, by its supervisor), every rank is put back to the checkpoint
     * and the steps since it are replayed from the data loader's committed offsets; the time this costs is modelled
     * (detection, restart, loading the checkpoint; docs/faults.md). Without one, or after too many failures of the same
     * step, the run ends.
     */
    private Behavior<Command> onStepFailed(StepFailed f) {
        if (!stepOpen || f.step() != step) return this;
        double failedAt = attemptStart + f.atSeconds();
        // an instant fault fails at its own moment (exactly, not through step-local time), or at the attempt's start
        // when that moment passed while no attempt ran
        if (f.fault() >= 0 && faults.fault(f.fault()).kind().instant()) failedAt = Math.max(faults.injectAt(f.fault()), attemptStart);
        // the first crash fails the attempt, whichever stage's report came first
        pullDraws(Math.nextUp(failedAt));
        int first = faults.firstCrash(attemptStart, failedAt);
        if (first >= 0) {
            return failAttempt(first, Math.max(faults.injectAt(first), attemptStart), crashReason(first), f.records());
        }
        return failAttempt(f.fault(), failedAt, f.reason(), f.records());
    }

    private String crashReason(int fault) {
        FaultDraws.Draw d = drawn.get(fault);
        return "injected stage.crash of " + faults.fault(fault).target() + " (fault " + fault
                + (d == null ? "" : ", a random " + d.kind().key() + " interruption") + ")";
    }

    /**
     * The attempt failed at {@code failedAt} (fault {@code fault}, or -1): every replica's work in it is lost (training
     * is synchronous). With a checkpoint, the failed ranks are restarted (a crashed actor was already, by its
     * supervisor), every rank is put back to the checkpoint and the steps since it are replayed from the data loader's
     * committed offsets; the time this costs is modelled (detection, a spare node, restart, loading the checkpoint:
     * {@link RecoveryBook}). Without one, or after too many failures of the same step, the run ends.
     */
    private Behavior<Command> failAttempt(int fault, double failedAt, String reason, List<StageRecord> partial) {
        if (fault >= 0 && faults.fault(fault).kind().instant()) {
            faults.fired(fault);
            faults.injectedSaid(fault);
            Fault x = faults.fault(fault);
            options.sink().emit(new Event.FaultInjected(step, failedAt, fault, x.kind().key(), x.target().toString(), x.describe()));
        }
        RecoverySpec recovery = options.recovery();
        if (!recovery.checkpoints()) {
            records.partial(partial);
            abandon(reason);
            // with faults injected, say why the failure was not recovered from; without, the failure is the whole story
            String hint = faults.isEmpty() ? "" : " (no checkpoint to recover from: set recovery.checkpointEverySteps)";
            return finish(RunResult.Status.FAILED, Optional.empty(), Optional.of(reason + hint));
        }
        int failures = lineage.failed(trainingStep);
        if (failures > recovery.maxRestarts()) {
            records.partial(partial);
            abandon(reason);
            return finish(RunResult.Status.FAILED, Optional.empty(), Optional.of("training step " + trainingStep + " failed "
                    + failures + " times (recovery.maxRestarts = " + recovery.maxRestarts() + "), the last: " + reason));
        }
        // a crash, an out-of-memory and a link that gave up are noticed where they happen (the supervisor, the
        // allocator, the sender's timeout); a random interruption as its kind says (docs/faults.md)
        FaultDraws.Draw draw = drawn.get(fault);
        if (draw == null) return recover(failedAt, 0, 0, fault, reason, false);
        RandomFaults.Rate rate = options.randomFaults().orElseThrow().rates().rate(draw.kind()).orElseThrow();
        return recover(failedAt, rate.detect(recovery), rate.repairSeconds(), fault, reason, false);
    }

    /** Puts the random interruptions before {@code until} (run axis) on the timeline. */
    private void pullDraws(double until) {
        if (draws.isEmpty()) return;
        while (ahead.atSeconds() < until) {
            int i = faults.scheduled(ahead.fault(draws.get().rates().seed()), ahead.atSeconds());
            drawn.put(i, ahead);
            ahead = draws.get().next();
        }
    }

    /**
     * Recovers from the current attempt's failure at {@code failedAt} (run axis), detected at {@code detectedAt}:
     * abandons the attempt, puts the time recovery costs on the run's axis and starts the replay from the last
     * checkpoint, after spawning the replicas again over the surviving nodes when {@code respawn}.
     */
    private Behavior<Command> recover(double failedAt, double detectSeconds, double repairSeconds, int fault, String reason,
                                      boolean respawn) {
        // the attempt is drawn without its actors' records: in virtual time how far each actor had run when the trainer
        // heard of the failure depends on thread timing, and two runs of one scenario must give the same report
        if (stepOpen) options.sink().emit(new Event.StepAbandoned(step, reason, List.of(), List.of(), 0));
        stepOpen = false;
        // the replayed steps' first runs no longer count: their offsets are consumed again
        RecoveryBook.Rollback back = lineage.rollBack(failedAt, detectSeconds, repairSeconds, attemptStart);
        Event.Recovered recovered = new Event.Recovered(step, fault, reason, failedAt, back.detectedAtSeconds(), back.recoveredAtSeconds(),
                back.resumeAt(), back.replayedSteps(), back.lostWorkSeconds());
        // a respawn's wall time is known once the replicas run again: the event waits for it (onReplicaReady)
        if (respawn) pendingRecovered = recovered;
        else options.sink().emit(recovered);
        getContext().getLog().info("attempt {} (training step {}) failed at {} s: {}; resuming from training step {}", step,
                trainingStep, failedAt, reason, back.resumeAt());
        while (losses.size() > back.resumeAt()) losses.remove(losses.size() - 1);
        runSeconds = back.recoveredAtSeconds();
        sayFaults(runSeconds);
        if (respawn) {
            respawn(back.resumeAt());
        } else {
            startStep(step + 1, back.resumeAt(), true);
        }
        return this;
    }

    /** Stops every replica (with its stages and links) and spawns them again over the placement without the lost nodes. */
    private void respawn(int resumeAt) {
        for (ActorRef<Pipeline.Command> p : pipelines) {
            getContext().unwatch(p);
            getContext().stop(p);
        }
        pipelines.clear();
        stagesByReplica.clear();
        probedStages.clear();
        probedLinks.clear();
        ready = 0;
        generation++;
        this.resumeAt = resumeAt;
        spawnReplicas();
    }

    /**
     * A stage or link of replica {@code replica} stopped: on a node of the cluster, the node was lost (remote death
     * watch fires once the failure detector and the downing provider removed it: pipelab.conf); the run recovers
     * with that node's stages re-placed on surviving workers with free slots, or ends when none has room. A local
     * actor that stops is a bug: the run ends.
     */
    private Behavior<Command> onActorLost(ActorLost l) {
        org.apache.pekko.actor.Address address = l.actor().path().address();
        int node = -1;
        for (int i = 0; i < hosts.size(); i++) {
            if (hosts.get(i).path().address().equals(address) && address.hasGlobalScope()) node = i;
        }
        if (node < 0) {
            String why = "replica " + l.replica() + ": " + l.actor().path().name() + " stopped unexpectedly";
            abandon(why);
            return finish(RunResult.Status.FAILED, Optional.empty(), Optional.of(why));
        }
        if (!lostNodes.add(node)) return this;
        lossHeardNanos = System.nanoTime();
        int fault = doomFault >= 0 && faults.fault(doomFault).target().equals(new FaultTarget.Node(node)) ? doomFault : -1;
        timedLoss = fault >= 0;
        String reason = "node " + node + " (" + address + ") lost" + (fault >= 0 ? " after " + faults.fault(fault).kind().key() : "");
        getContext().getLog().warn("{}{}", reason, timedLoss ? String.format(java.util.Locale.ROOT, ", detected %.1f s (wall) after the fault",
                (lossHeardNanos - doomNanos) / 1e9) : "");
        double failedAt = !Double.isNaN(doomedAt) ? attemptStart + doomedAt : attemptStart;
        doomedAt = Double.NaN;
        doomFault = -1;
        Optional<NodePlacement> moved = placement.without(lostNodes);
        RecoverySpec recovery = options.recovery();
        if (moved.isEmpty() || !recovery.checkpoints()) {
            String why = reason + (moved.isEmpty() ? ": the surviving workers have no free slot for its stages"
                    : " (no checkpoint to recover from: set recovery.checkpointEverySteps)");
            abandon(why);
            return finish(RunResult.Status.FAILED, Optional.empty(), Optional.of(why));
        }
        int failures = lineage.failed(trainingStep);
        if (failures > recovery.maxRestarts()) {
            abandon(reason);
            return finish(RunResult.Status.FAILED, Optional.empty(), Optional.of("training step " + trainingStep + " failed "
                    + failures + " times (recovery.maxRestarts = " + recovery.maxRestarts() + "), the last: " + reason));
        }
        placement = moved.get();
        // a node that goes silent is noticed by the heartbeat timeout (modelled: recovery.detectSeconds)
        return recover(failedAt, recovery.detectSeconds(), 0, fault, reason, true);
    }


    private Behavior<Command> onFailed(Failed f) {
        records.partial(f.records());
        abandon(f.message());
        return finish(RunResult.Status.FAILED, Optional.empty(), Optional.of(f.message()));
    }

    private Behavior<Command> onTerminated(Terminated t) {
        String why = t.getRef().path().name() + " stopped unexpectedly";
        abandon(why);
        return finish(RunResult.Status.FAILED, Optional.empty(), Optional.of(why));
    }

    /** The open step will never complete: what its actors recorded of it, so that the trace and report show what ran. */
    private void abandon(String reason) {
        if (!stepOpen) return;
        stepOpen = false;
        options.sink().emit(new Event.StepAbandoned(step, reason, records.stages(), records.links(), records.lost()));
    }

    private Behavior<Command> onStageBlocked(StageBlocked b) {
        if (quiescence != null && quiescence.blocked(b.step()) == Quiescence.Next.PROBE) probe();
        return this;
    }

    private Behavior<Command> onProbeReply(ProbeReply r) {
        Quiescence.Next next = quiescence.reply(r.report());
        if (next == Quiescence.Next.PROBE) {
            probe();
        } else if (next == Quiescence.Next.DEADLOCK && deadlock == null) {
            // the stuck step never completes, so its stages and links have not handed over their records: ask them to,
            // and end the run once all have (the abandoned step is in the sink before the result is)
            deadlock = new RunResult.Deadlock(step, quiescence.stuck(), ScheduleText.grid(spec.schedule()));
            flushesLeft = probedStages.size() + probedLinks.size();
            for (ActorRef<Stage.Command> s : probedStages) s.tell(new Stage.Flush(flushAdapter));
            for (ActorRef<Link.Command> l : probedLinks) l.tell(new Link.Flush(flushAdapter));
            if (flushesLeft == 0) return deadlocked();
        }
        return this;
    }

    private Behavior<Command> onFlushed(FlushedReply f) {
        if (deadlock == null) return this;
        Control.Flushed flushed = f.flushed();
        if (!flushed.last()) {
            flushParts.part(flushed.who(), flushed);
            return this;
        }
        PartInbox.Arrived<Control.Flushed> arrived = flushParts.last(flushed.who(), flushed, flushed.parts());
        if (arrived.lost() > 0) records.lost(1);
        List<StageRecord> stageParts = arrived.parts().stream().flatMap(x -> x.stages().stream()).toList();
        List<LinkRecord> linkParts = arrived.parts().stream().flatMap(x -> x.links().stream()).toList();
        if (!stageParts.isEmpty()) records.partial(List.of(RecordParts.joinStage(stageParts)));
        if (!linkParts.isEmpty()) records.linkRecorded(RecordParts.joinLink(linkParts));
        if (--flushesLeft == 0) return deadlocked();
        return this;
    }

    /** Every stage and link has flushed: the stages' records are those of the flushes (done or not), the links' all in. */
    private Behavior<Command> deadlocked() {
        abandon("deadlock at step " + step);
        return finish(RunResult.Status.DEADLOCKED, Optional.of(deadlock), Optional.empty());
    }

    /**
     * Sends the wave {@link Quiescence} asked for, but never sooner than {@link #PROBE_GAP_NANOS} after the previous
     * one, and that for every {@link #PROBED_PER_GAP} actors a wave probes. Why: while a pipeline runs, stages block all
     * the time, and back-to-back waves (each a probe and a reply per stage and link) were a third of a virtual run's
     * messages, about 13 waves per step; their cost grew with how long a step took, so any slowdown fed itself. A wave's
     * cost also grows with the actors it probes (63,000 at d=1,024 on Llama 3 405B's layout, where the step itself
     * takes seconds): the gap grows with them, so that waves stay a bounded share of the messages. Deadlock detection
     * only needs the waves to come eventually (two quiet ones in a row).
     */
    private void probe() {
        long gap = PROBE_GAP_NANOS * Math.max(1, (probedStages.size() + probedLinks.size()) / PROBED_PER_GAP);
        long wait = lastProbeNanos + gap - System.nanoTime();
        if (wait <= 0) {
            sendProbes();
        } else if (!probeScheduled) {
            probeScheduled = true;
            getContext().scheduleOnce(Duration.ofNanos(wait), getContext().getSelf(), new ProbeNow(quiescence.wave()));
        }
    }

    private void sendProbes() {
        lastProbeNanos = System.nanoTime();
        int wave = quiescence.wave();
        for (ActorRef<Stage.Command> s : probedStages) s.tell(new Stage.Probe(wave, probeAdapter));
        for (ActorRef<Link.Command> l : probedLinks) l.tell(new Link.Probe(wave, probeAdapter));
    }

    private Behavior<Command> finish(RunResult.Status status, Optional<RunResult.Deadlock> deadlock, Optional<String> failure) {
        RunResult.Recovery recovery = lineage.totals(runSeconds, duplicatesDropped);
        result.complete(new RunResult(spec.schedule(), spec.replicas(), steps, status, deadlock, failure, losses, finalWeights,
                recovery));
        return Behaviors.stopped();
    }
}
