package dev.pipelab.pipeline;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.pipelab.cluster.Host;
import dev.pipelab.cluster.Node;
import dev.pipelab.cluster.NodePlacement;
import dev.pipelab.link.Link;
import dev.pipelab.link.LinkSetup;
import dev.pipelab.numerics.TensorCodec;
import dev.pipelab.plan.Plan;
import dev.pipelab.protocol.RecordParts;
import dev.pipelab.stage.Stage;
import dev.pipelab.stage.StageProgram;
import dev.pipelab.stage.StageSetup;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The blocking entry point of the actor runtime. Invariant: every call returns a {@link RunResult} (completed,
 * deadlocked or failed) and leaves no actor of the run behind; the embedded overloads also terminate the
 * ActorSystem they created. The embedded overloads run in one ActorSystem of their own with the local provider:
 * nothing leaves the JVM, and a one-node cluster would add only its start and its leaving (docs/benchmarks.md,
 * Start-up); the cluster runs take an existing system.
 */
public final class Emulator {

    /** The ActorSystem name every node of a pipelab cluster uses. */
    public static final String SYSTEM_NAME = Node.SYSTEM_NAME;

    private static final AtomicLong RUNS = new AtomicLong();

    /** The embedded run's provider (the class comment says why). */
    private static final Config LOCAL = ConfigFactory.parseString("pekko.actor.provider = local");

    /**
     * What every node's {@link Host} spawns: {@link Stage}s, and {@link Link}s that deliver as {@link Stage} messages
     * and hand their records to the trainer's adapter. Pass it to {@link Host#create} where a node starts.
     */
    public static final Host.Factories ACTORS = new Host.Factories() {
        @Override
        public Behavior<?> stage(StageSetup setup) {
            return Stage.create(setup);
        }

        @Override
        public Behavior<?> link(LinkSetup setup, ActorRef<?> target, ActorRef<?> recorder) {
            // the pipeline asked for the link with a stage as its target and the trainer's adapter as its recorder
            ActorRef<Stage.Command> stage = target.unsafeUpcast();
            ActorRef<Link.Recorded> records = recorder.unsafeUpcast();
            return Link.create(setup, stage, Stage::delivered, records);
        }
    };

    private Emulator() {}

    /** Runs the plan on an embedded ActorSystem (config {@code pipelab.conf}, local provider). */
    public static RunResult run(Plan plan, RunOptions options) {
        return run(RunSpec.of(plan), options);
    }

    /** Runs on an embedded ActorSystem (config {@code pipelab.conf}, local provider). */
    public static RunResult run(RunSpec spec, RunOptions options) {
        return run(spec, options, ConfigFactory.empty());
    }

    /**
     * Runs on an embedded ActorSystem whose config is {@code overrides} over {@code pipelab.conf}, with the local
     * provider whatever they say. Every message still goes through the same actors and mailboxes as on a cluster
     * node; none is serialized (nor would it be on a one-node cluster: Artery serializes only what leaves the JVM).
     */
    public static RunResult run(RunSpec spec, RunOptions options, Config overrides) {
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), SYSTEM_NAME, config(LOCAL.withFallback(overrides)));
        try {
            return run(system, spec, options);
        } finally {
            system.terminate();
            try {
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // terminating is best effort; the run's result stands
            }
        }
    }

    /** {@code pipelab.conf} (then Pekko's reference) under {@code overrides}. */
    public static Config config(Config overrides) {
        return Node.withDefaults(overrides);
    }

    /** Runs on an existing ActorSystem with one local host. */
    public static RunResult run(ActorSystem<?> system, RunSpec spec, RunOptions options) {
        long id = RUNS.incrementAndGet();
        ActorRef<Host.Command> host = system.systemActorOf(Host.createLocal(ACTORS), "host-" + id, Props.empty());
        try {
            return run(system, List.of(host), NodePlacement.ONE_NODE, spec, options);
        } finally {
            host.tell(Host.Stop.INSTANCE);
        }
    }

    /**
     * The most bytes a stage's {@code Done} takes on the wire: its report (a start and an end per action, 9 bytes each
     * in CBOR, and rank 0's {@code microBatches} offsets) plus a record's part, which takes at most a quarter frame
     * ({@link RecordParts}); {@code RecordSizeTest} checks it against serialized reports.
     */
    public static long doneBytesBound(long actions, long microBatches, long frameBytes) {
        return 18 * actions + 9 * microBatches + RecordParts.HEAD_BYTES + frameBytes / 4;
    }

    /** The trainer under a watcher that fails the result should the trainer stop without completing it (a bug). */
    private static Behavior<Void> watched(Behavior<Trainer.Command> trainer, CompletableFuture<RunResult> result) {
        return Behaviors.setup(ctx -> {
            ctx.watch(ctx.spawn(trainer, "trainer"));
            return Behaviors.receive(Void.class)
                    .onSignal(Terminated.class, t -> {
                        result.completeExceptionally(new IllegalStateException("the trainer stopped without a result"));
                        return Behaviors.stopped();
                    })
                    .build();
        });
    }

    /**
     * Runs with stages placed on the given hosts (one per node, typically found through the Receptionist under
     * {@link Host#KEY}); the coordinator runs on {@code system} and alone emits to {@code options.sink()}.
     */
    public static RunResult run(ActorSystem<?> system, List<ActorRef<Host.Command>> hosts, NodePlacement placement,
                                RunSpec spec, RunOptions options) {
        // a schedule that does not fit fails here, not inside an actor
        List<StageProgram> programs = StageProgram.all(spec.schedule(), spec.costs());
        if (hosts.isEmpty()) throw new IllegalArgumentException("at least one host is needed");
        if (hosts.size() > 1) {
            // a stage's Done carries its report (two times per action) next to a record's part: records are split to fit
            // Artery's ordinary frame, the report is not, so a rank with too many actions could not finish a step
            long actions = programs.stream().mapToLong(StageProgram::size).max().orElse(0);
            long frame = system.settings().config().getBytes(RecordParts.FRAME_SIZE_KEY);
            long done = doneBytesBound(actions, spec.schedule().microBatches(), frame);
            if (done > frame) {
                throw new IllegalArgumentException("across nodes a rank's step report of " + actions + " actions would take up to "
                        + done + " bytes, more than Artery's frame of " + frame + " bytes; use fewer micro-batches per step, one "
                        + "node, or raise " + RecordParts.FRAME_SIZE_KEY);
            }
        }
        if (hosts.size() > 1 && spec.real().isPresent()) {
            // Artery drops a payload over its frame size (256 KiB by default) silently (docs/architecture.md, Cluster)
            long largest = spec.real().get().largestPayloadBytes(spec.schedule().stages());
            // real-numerics stages and the weights inbox use the large-message lane (pipelab.conf)
            long frame = system.settings().config().getBytes("pekko.remote.artery.advanced.maximum-large-frame-size");
            if (largest + TensorCodec.ENVELOPE_MARGIN_BYTES > frame) {
                throw new IllegalArgumentException("real numerics across nodes: a message would carry " + largest
                        + " bytes, more than Artery's large-message frame of " + frame + " bytes (minus a 4 KiB envelope); "
                        + "use a smaller model, one node, or raise pekko.remote.artery.advanced.maximum-large-frame-size");
            }
        }
        CompletableFuture<RunResult> result = new CompletableFuture<>();
        long id = RUNS.incrementAndGet();
        system.systemActorOf(watched(Trainer.create(spec, options, hosts, placement, result), result), "run-" + id, Props.empty());
        try {
            return result.get(options.safetyTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("the run failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the run did not end within the safety timeout of " + options.safetyTimeout()
                    + " (a bug: deadlocks are detected, not timed out)");
        }
    }
}
