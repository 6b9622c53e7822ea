package dev.pipelab.cluster;

import dev.pipelab.link.LinkSetup;
import dev.pipelab.protocol.CborSerializable;
import dev.pipelab.stage.StageSetup;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

import java.util.HashMap;
import java.util.Map;

/**
 * One per node: spawns stage and link actors on request, so that the placement of (replica, rank) on nodes is data.
 * Invariant: it registers itself with the Receptionist under {@link #KEY}; what it spawns comes from the
 * {@link Factories} its node gave it, so the host knows the setups (data) but not the actors' protocols, and the refs
 * it hands back are typed by whoever asked. A run's actors live under one child of the host per run, which watches the
 * run's coordinator (its trainer) and stops with them as soon as that stops or its node leaves the cluster (remote
 * death watch), so a run that ended, failed or lost its coordinator leaves nothing behind on a worker.
 */
public final class Host extends AbstractBehavior<Host.Command> {

    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "pipelab-host");

    /** How a node makes the actors it hosts; given where the node starts, never sent. */
    public interface Factories {
        /** A stage's behaviour. */
        Behavior<?> stage(StageSetup setup);

        /** A link's behaviour, delivering to {@code target} and handing its step records to {@code recorder}. */
        Behavior<?> link(LinkSetup setup, ActorRef<?> target, ActorRef<?> recorder);
    }

    /** What a host understands. */
    public sealed interface Command extends CborSerializable permits SpawnStage, SpawnLink, CountRuns, Stop, RunEnded, Kill, Pause {}

    /**
     * Spawn a stage for the run whose coordinator is {@code run} (it lives until {@code run} stops). Pairing: answered
     * by one {@link StageSpawned}.
     */
    public record SpawnStage(StageSetup setup, ActorRef<?> run, ActorRef<StageSpawned> replyTo) implements Command {}

    /**
     * Spawn a link delivering to {@code target} and recording to {@code recorder} (see {@link Factories#link}) for the
     * run whose coordinator is {@code run}. Pairing: answered by one {@link LinkSpawned}.
     */
    public record SpawnLink(LinkSetup setup, ActorRef<?> target, ActorRef<?> recorder, ActorRef<?> run,
                            ActorRef<LinkSpawned> replyTo) implements Command {}

    /** How many runs have actors on this host. Pairing: answered by one {@link Runs}. */
    public record CountRuns(ActorRef<Runs> replyTo) implements Command {}

    /**
     * A {@code node.kill} fault: this node's JVM is killed with SIGKILL ({@code kill -9}) at once, by a process it
     * starts for the purpose: nothing of it runs on, no shutdown hook, no goodbye to the cluster (docs/faults.md).
     */
    public enum Kill implements Command { INSTANCE }

    /**
     * A {@code node.pause} fault: this node's JVM is stopped with SIGSTOP for {@code seconds} (wall), then continued
     * with SIGCONT, by a shell it starts for the purpose (which the stop does not stop).
     */
    public record Pause(double seconds) implements Command {}

    /** Stop this host and everything it spawned. */
    public enum Stop implements Command { INSTANCE }

    /** The actors of the run whose coordinator is {@code run} have all stopped. */
    record RunEnded(ActorRef<?> run) implements Command {}

    /** A stage was spawned; {@code stage} accepts what {@link Factories#stage} made it accept. */
    public record StageSpawned(int replica, int rank, ActorRef<?> stage) implements CborSerializable {}

    /** A link was spawned; {@code link} accepts what {@link Factories#link} made it accept. */
    public record LinkSpawned(LinkSetup setup, ActorRef<?> link) implements CborSerializable {}

    /** Runs with actors on the host: {@code runs} runs, {@code actors} stages and links between them. */
    public record Runs(int runs, int actors) implements CborSerializable {}

    private final Factories factories;
    /** Each run with actors here: the child that holds them, and how many it spawned. */
    private final Map<ActorRef<?>, HostedRun> runs = new HashMap<>();
    private long runCount;

    private record HostedRun(ActorRef<Command> holder, int actors) {}

    private Host(ActorContext<Command> context, Factories factories, boolean register) {
        super(context);
        this.factories = factories;
        if (register) context.getSystem().receptionist().tell(Receptionist.register(KEY, context.getSelf()));
    }

    /** A host that registers with the Receptionist (cluster nodes). */
    public static Behavior<Command> create(Factories factories) {
        return Behaviors.setup(ctx -> new Host(ctx, factories, true));
    }

    /** A host known only to whoever spawned it (an embedded one-node run). */
    public static Behavior<Command> createLocal(Factories factories) {
        return Behaviors.setup(ctx -> new Host(ctx, factories, false));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(SpawnStage.class, this::onSpawnStage)
                .onMessage(SpawnLink.class, this::onSpawnLink)
                .onMessage(CountRuns.class, this::onCountRuns)
                .onMessage(RunEnded.class, this::onRunEnded)
                .onMessageEquals(Kill.INSTANCE, this::onKill)
                .onMessage(Pause.class, this::onPause)
                .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
                .build();
    }

    /** Name prefix of real-numerics stages; {@code large-message-destinations} in pipelab.conf matches it. */
    public static final String REAL_STAGE_PREFIX = "real-stage-";

    /** Name prefix of the child that holds one run's actors ({@code run-3}); pipelab.conf's paths match under it. */
    public static final String RUN_PREFIX = "run-";

    /** Real-numerics stages' dispatcher (pipelab.conf): one thread per core, apart from the default dispatcher. */
    private static final DispatcherSelector REAL_STAGE_DISPATCHER = DispatcherSelector.fromConfig("pipelab.real-stage-dispatcher");

    private Behavior<Command> onSpawnStage(SpawnStage s) {
        holder(s.run()).tell(s);
        return this;
    }

    private Behavior<Command> onSpawnLink(SpawnLink s) {
        holder(s.run()).tell(s);
        return this;
    }

    /** The child that holds the run's actors here, made at its first actor; counts the actor. */
    private ActorRef<Command> holder(ActorRef<?> run) {
        HostedRun hosted = runs.get(run);
        if (hosted == null) {
            ActorRef<Command> holder = getContext().spawn(runHolder(factories, run), RUN_PREFIX + (++runCount));
            getContext().watchWith(holder, new RunEnded(run));
            hosted = new HostedRun(holder, 0);
        }
        runs.put(run, new HostedRun(hosted.holder(), hosted.actors() + 1));
        return hosted.holder();
    }

    private Behavior<Command> onKill() {
        long pid = ProcessHandle.current().pid();
        getContext().getLog().warn("node.kill: this JVM (pid {}) is killed with SIGKILL", pid);
        signal("kill -KILL " + pid);
        return this;
    }

    private Behavior<Command> onPause(Pause p) {
        long pid = ProcessHandle.current().pid();
        getContext().getLog().warn("node.pause: this JVM (pid {}) is stopped for {} s (SIGSTOP, then SIGCONT)", pid, p.seconds());
        signal(String.format(java.util.Locale.ROOT, "kill -STOP %d; sleep %.3f; kill -CONT %d", pid, p.seconds(), pid));
        return this;
    }

    /** Runs {@code command} in a shell of its own, detached from this JVM's fate (a fault on the node itself). */
    private void signal(String command) {
        try {
            new ProcessBuilder("sh", "-c", command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (java.io.IOException e) {
            getContext().getLog().error("could not run '{}' for a node fault: {}", command, e.getMessage());
        }
    }

    private Behavior<Command> onCountRuns(CountRuns c) {
        c.replyTo().tell(new Runs(runs.size(), runs.values().stream().mapToInt(HostedRun::actors).sum()));
        return this;
    }

    private Behavior<Command> onRunEnded(RunEnded e) {
        runs.remove(e.run());
        return this;
    }

    /**
     * One run's actors on this node: spawns them as its children and stops (and they with it) when {@code run} stops.
     * Remote death watch also fires when {@code run}'s node is removed from the cluster, so a coordinator that crashed
     * or left takes its run's actors on every worker with it.
     */
    private static Behavior<Command> runHolder(Factories factories, ActorRef<?> run) {
        return Behaviors.setup(ctx -> {
            ctx.watch(run);
            long[] realStages = {0};
            return Behaviors.receive(Command.class)
                    .onMessage(SpawnStage.class, s -> {
                        // real-numerics stages carry tensors: their name routes them through Artery's large-message lane
                        // (pipelab.conf); they compute for milliseconds per message, so they run on threads of their own,
                        // not the dispatcher that carries every other message
                        Behavior<?> behavior = factories.stage(s.setup());
                        ActorRef<?> stage = s.setup().real().isPresent()
                                ? ctx.spawn(behavior, REAL_STAGE_PREFIX + s.setup().replica() + "-" + s.setup().rank() + "-"
                                        + (realStages[0]++), REAL_STAGE_DISPATCHER)
                                : ctx.spawnAnonymous(behavior);
                        s.replyTo().tell(new StageSpawned(s.setup().replica(), s.setup().rank(), stage));
                        return Behaviors.same();
                    })
                    .onMessage(SpawnLink.class, s -> {
                        ActorRef<?> link = ctx.spawnAnonymous(factories.link(s.setup(), s.target(), s.recorder()));
                        s.replyTo().tell(new LinkSpawned(s.setup(), link));
                        return Behaviors.same();
                    })
                    .onSignal(Terminated.class, t -> Behaviors.stopped())
                    .build();
        });
    }
}
