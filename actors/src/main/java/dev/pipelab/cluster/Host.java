package dev.pipelab.cluster;

import dev.pipelab.link.Link;
import dev.pipelab.link.LinkSetup;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.stage.Stage;
import dev.pipelab.stage.StageSetup;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One per node: spawns {@link Stage} and {@link Link} actors on request, so that the placement of (replica, rank)
 * on nodes is data. Invariant: it registers itself with the Receptionist under {@link #KEY}; the actors it
 * spawns emit telemetry to this node's {@link EventSink} (telemetry never crosses nodes).
 */
public final class Host extends AbstractBehavior<Host.Command> {

    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "pipelab-host");

    /** What a host understands. */
    public sealed interface Command extends CborSerializable permits SpawnStage, SpawnLink, Stop {}

    /** Spawn a stage. Pairing: answered by one {@link StageSpawned}. */
    public record SpawnStage(StageSetup setup, ActorRef<StageSpawned> replyTo) implements Command {}

    /** Spawn a link delivering to {@code target}. Pairing: answered by one {@link LinkSpawned}. */
    public record SpawnLink(LinkSetup setup, ActorRef<Stage.Command> target, ActorRef<LinkSpawned> replyTo) implements Command {}

    /** Stop this host and everything it spawned. */
    public enum Stop implements Command { INSTANCE }

    /** A stage was spawned. */
    public record StageSpawned(int replica, int rank, ActorRef<Stage.Command> stage) implements CborSerializable {}

    /** A link was spawned. */
    public record LinkSpawned(LinkSetup setup, ActorRef<Link.Command> link) implements CborSerializable {}

    private final EventSink sink;

    private Host(ActorContext<Command> context, EventSink sink, boolean register) {
        super(context);
        this.sink = sink;
        if (register) context.getSystem().receptionist().tell(Receptionist.register(KEY, context.getSelf()));
    }

    /** A host that registers with the Receptionist (cluster nodes). */
    public static Behavior<Command> create(EventSink sink) {
        return Behaviors.setup(ctx -> new Host(ctx, sink, true));
    }

    /** A host known only to whoever spawned it (an embedded one-node run). */
    public static Behavior<Command> createLocal(EventSink sink) {
        return Behaviors.setup(ctx -> new Host(ctx, sink, false));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(SpawnStage.class, this::onSpawnStage)
                .onMessage(SpawnLink.class, this::onSpawnLink)
                .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
                .build();
    }

    /** Name prefix of real-numerics stages; {@code large-message-destinations} in pipelab.conf matches it. */
    public static final String REAL_STAGE_PREFIX = "real-stage-";

    private long realStages;
    /** Real-numerics stages' dispatcher (pipelab.conf): one thread per core, apart from the default dispatcher. */
    private static final org.apache.pekko.actor.typed.DispatcherSelector REAL_STAGE_DISPATCHER =
            org.apache.pekko.actor.typed.DispatcherSelector.fromConfig("pipelab.real-stage-dispatcher");

    private Behavior<Command> onSpawnStage(SpawnStage s) {
        // real-numerics stages carry tensors: their name routes them through Artery's large-message lane (pipelab.conf);
        // they compute for milliseconds per message, so they run on threads of their own, not the dispatcher that
        // carries every other message
        ActorRef<Stage.Command> stage = s.setup().real().isPresent()
                ? getContext().spawn(Stage.create(s.setup(), sink), REAL_STAGE_PREFIX + s.setup().replica() + "-"
                        + s.setup().rank() + "-" + (realStages++), REAL_STAGE_DISPATCHER)
                : getContext().spawnAnonymous(Stage.create(s.setup(), sink));
        s.replyTo().tell(new StageSpawned(s.setup().replica(), s.setup().rank(), stage));
        return this;
    }

    private Behavior<Command> onSpawnLink(SpawnLink s) {
        ActorRef<Link.Command> link = getContext().spawnAnonymous(Link.create(s.setup(), s.target(), sink));
        s.replyTo().tell(new LinkSpawned(s.setup(), link));
        return this;
    }
}
