package dev.pipelab.cluster;

import dev.pipelab.link.LinkSetup;
import dev.pipelab.protocol.CborSerializable;
import dev.pipelab.stage.StageSetup;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One per node: spawns stage and link actors on request, so that the placement of (replica, rank) on nodes is data.
 * Invariant: it registers itself with the Receptionist under {@link #KEY}; what it spawns comes from the
 * {@link Factories} its node gave it, so the host knows the setups (data) but not the actors' protocols, and the refs
 * it hands back are typed by whoever asked.
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
    public sealed interface Command extends CborSerializable permits SpawnStage, SpawnLink, Stop {}

    /** Spawn a stage. Pairing: answered by one {@link StageSpawned}. */
    public record SpawnStage(StageSetup setup, ActorRef<StageSpawned> replyTo) implements Command {}

    /**
     * Spawn a link delivering to {@code target} and recording to {@code recorder} (see {@link Factories#link}).
     * Pairing: answered by one {@link LinkSpawned}.
     */
    public record SpawnLink(LinkSetup setup, ActorRef<?> target, ActorRef<?> recorder, ActorRef<LinkSpawned> replyTo)
            implements Command {}

    /** Stop this host and everything it spawned. */
    public enum Stop implements Command { INSTANCE }

    /** A stage was spawned; {@code stage} accepts what {@link Factories#stage} made it accept. */
    public record StageSpawned(int replica, int rank, ActorRef<?> stage) implements CborSerializable {}

    /** A link was spawned; {@code link} accepts what {@link Factories#link} made it accept. */
    public record LinkSpawned(LinkSetup setup, ActorRef<?> link) implements CborSerializable {}

    private final Factories factories;

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
                .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
                .build();
    }

    /** Name prefix of real-numerics stages; {@code large-message-destinations} in pipelab.conf matches it. */
    public static final String REAL_STAGE_PREFIX = "real-stage-";

    private long realStages;
    /** Real-numerics stages' dispatcher (pipelab.conf): one thread per core, apart from the default dispatcher. */
    private static final DispatcherSelector REAL_STAGE_DISPATCHER = DispatcherSelector.fromConfig("pipelab.real-stage-dispatcher");

    private Behavior<Command> onSpawnStage(SpawnStage s) {
        // real-numerics stages carry tensors: their name routes them through Artery's large-message lane (pipelab.conf);
        // they compute for milliseconds per message, so they run on threads of their own, not the dispatcher that
        // carries every other message
        Behavior<?> behavior = factories.stage(s.setup());
        ActorRef<?> stage = s.setup().real().isPresent()
                ? getContext().spawn(behavior, REAL_STAGE_PREFIX + s.setup().replica() + "-"
                        + s.setup().rank() + "-" + (realStages++), REAL_STAGE_DISPATCHER)
                : getContext().spawnAnonymous(behavior);
        s.replyTo().tell(new StageSpawned(s.setup().replica(), s.setup().rank(), stage));
        return this;
    }

    private Behavior<Command> onSpawnLink(SpawnLink s) {
        ActorRef<?> link = getContext().spawnAnonymous(factories.link(s.setup(), s.target(), s.recorder()));
        s.replyTo().tell(new LinkSpawned(s.setup(), link));
        return this;
    }
}
