package dev.pipelab.cli;

import com.typesafe.config.ConfigFactory;
import dev.pipelab.clock.Stopwatch;
import dev.pipelab.link.CreditWindow;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.model.Recompute;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.numerics.Activation;
import dev.pipelab.numerics.Loss;
import dev.pipelab.numerics.PipelineTrainer;
import dev.pipelab.numerics.RealModel;
import dev.pipelab.numerics.SequentialTrainer;
import dev.pipelab.pipeline.Emulator;
import dev.pipelab.pipeline.RunOptions;
import dev.pipelab.pipeline.RunSpec;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.RingAllReduce;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.stage.RealSetup;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code pipelab bench real}: real numerics through the actor runtime on this machine's cores. (1) Speed-up: a
 * compute-heavy 2-stage MLP pipeline (1F1B, each action milliseconds of EJML GEMMs) against the sequential
 * reference on one thread, beside the ideal {@code 2·m/(m+1)} of a 2-stage 1F1B pipeline with uniform stages.
 * (2) Overhead: a tiny model (compute about nothing) through the actors against the same schedule through
 * {@code PipelineExecutor}'s direct calls, per micro-batch. Invariant: one ActorSystem serves all rounds, and
 * a warm-up round precedes the measured ones (JIT).
 */
final class RealBench {

    static final int M = 8;
    static final int STEPS = 6;

    private final PrintWriter out;
    private final int rounds;

    RealBench(PrintWriter out, int rounds) {
        this.out = out;
        this.rounds = rounds;
    }

    void run() {
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), Emulator.SYSTEM_NAME, Emulator.config(ConfigFactory.empty()));
        try {
            Cluster cluster = Cluster.get(system);
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
            speedUp(system);
            overhead(system);
        } finally {
            system.terminate();
        }
    }

    /** Widths so that one forward of a 2-layer stage takes milliseconds and the two stages weigh the same: 4 layers of 384 × 384 (384 classes), micro-batches of 96. */
    private void speedUp(ActorSystem<Void> system) {
        RealSetup real = RealSetup.sgd(RealModel.mlp(384, 384, 4, 384, Activation.TANH, false, Loss.CROSS_ENTROPY, 1),
                96, 2, 0.01, 0.9, Recompute.NONE, true);
        Schedule s = Schedules.oneFOneB(2, M);
        double ideal = 2.0 * M / (M + 1);
        out.printf(Locale.ROOT, "%nreal numerics speed-up: MLP 4 layers 384x384 (tanh), b=96, 2-stage 1F1B, m=%d, %d steps per round, %d cores%n",
                M, STEPS, Runtime.getRuntime().availableProcessors());
        out.printf(Locale.ROOT, "  %-8s %16s %16s %10s %10s%n", "round", "sequential s/step", "actors s/step", "speed-up", "ideal");
        double bestSeq = Double.POSITIVE_INFINITY;
        double bestActors = Double.POSITIVE_INFINITY;
        for (int round = 0; round <= rounds; round++) {
            SequentialTrainer seq = new SequentialTrainer(real.model(), real.data(), M, 1, real.optimizerSpec());
            double seqSeconds = Stopwatch.seconds(() -> seq.train(STEPS)) / STEPS;
            double actorSeconds = actorStep(system, s, real);
            out.printf(Locale.ROOT, "  %-8s %16.4f %16.4f %9.2fx %9.2fx%n", round == 0 ? "warm-up" : Integer.toString(round),
                    seqSeconds, actorSeconds, seqSeconds / actorSeconds, ideal);
            out.flush();
            if (round > 0) {
                bestSeq = Math.min(bestSeq, seqSeconds);
                bestActors = Math.min(bestActors, actorSeconds);
            }
        }
        // the fastest round of each is the least disturbed by other load on a shared machine
        out.printf(Locale.ROOT, "  %-8s %16.4f %16.4f %9.2fx %9.2fx%n", "best", bestSeq, bestActors, bestSeq / bestActors, ideal);
    }

    /** Per micro-batch cost of the actor path over direct calls, with a model whose compute is about nothing. */
    private void overhead(ActorSystem<Void> system) {
        RealSetup tiny = RealSetup.sgd(RealModel.mlp(2, 2, 2, 2, Activation.TANH, false, Loss.CROSS_ENTROPY, 1), 1, 2, 0.01, 0.9,
                Recompute.NONE, true);
        int m = 64;
        Schedule s = Schedules.oneFOneB(2, m);
        out.printf(Locale.ROOT, "%nreal numerics overhead: MLP 2x2, 2-stage 1F1B, m=%d (per micro-batch: F and B on both stages, 2 tensor messages)%n", m);
        out.printf(Locale.ROOT, "  %-8s %18s %18s %18s%n", "round", "direct µs/mb", "actors µs/mb", "overhead µs/mb");
        for (int round = 0; round <= rounds; round++) {
            PipelineTrainer direct = new PipelineTrainer(tiny.model(), tiny.data(), s, Recompute.NONE, 1, tiny.optimizerSpec(),
                    PipelineTrainer.Reduction.CANONICAL);
            double directPerMb = Stopwatch.seconds(() -> direct.train(STEPS)) / STEPS / m * 1e6;
            double actorPerMb = actorStep(system, s, tiny) / m * 1e6;
            out.printf(Locale.ROOT, "  %-8s %18.1f %18.1f %18.1f%n", round == 0 ? "warm-up" : Integer.toString(round), directPerMb,
                    actorPerMb, actorPerMb - directPerMb);
            out.flush();
        }
    }

    /** Wall seconds per step of an actor run (virtual clock: the actors compute as fast as they can, stages in parallel). */
    private double actorStep(ActorSystem<Void> system, Schedule s, RealSetup real) {
        List<StageCost> costs = new ArrayList<>();
        for (int k = 0; k < s.stages(); k++) costs.add(new StageCost(0, 0, 0, 0, 0, 0, 0, 0, 0, RingAllReduce.NONE, 0));
        RunSpec spec = new RunSpec(s, costs, Network.uniform(LinkSpec.FREE), CreditWindow.UNBOUNDED, 1,
                Long.MAX_VALUE).withReal(real);
        EventSink none = e -> { };
        // one extra step absorbs spawning and wiring: time STEPS + 1 steps minus a 1-step run
        double one = Stopwatch.seconds(() -> Emulator.run(system, spec, RunOptions.virtual(1, none)).orThrow());
        double more = Stopwatch.seconds(() -> Emulator.run(system, spec, RunOptions.virtual(STEPS + 1, none)).orThrow());
        return (more - one) / STEPS;
    }
}
