package dev.pipelab.numerics;

import dev.pipelab.model.Recompute;
import dev.pipelab.schedule.Schedule;
import org.ejml.data.DMatrixRMaj;

import java.util.ArrayList;
import java.util.List;

/**
 * Pipelined data-parallel training without actors: d replicas each run the schedule's step through
 * {@link PipelineExecutor}, each stage's gradients are all-reduced over the replicas ({@link GradientAllReduce}),
 * and each stage takes its own optimizer step. Invariant: with {@link Reduction#CANONICAL} (or d ≤ 2) the losses
 * and weights equal {@link SequentialTrainer}'s bit for bit, for every schedule, recomputation policy and
 * partition.
 *
 * <p>The replicas hold identical weights at every step (the all-reduce hands every rank the same bits), so one
 * copy of the shards serves all of them; the executor runs the replicas one after another on it.
 */
public final class PipelineTrainer {

    /** How the replicas' gradients are summed. */
    public enum Reduction {
        /** {@link GradientAllReduce#ring}: exact for d ≤ 2, within rounding for d ≥ 3. */
        RING,
        /** {@link GradientAllReduce#canonical}: replica-order fold, exact for every d. */
        CANONICAL
    }

    private final DataSource data;
    private final Schedule schedule;
    private final int replicas;
    private final Reduction reduction;
    private final List<StageShard> shards;
    private final List<OptimizerState> optimizers = new ArrayList<>();
    private final PipelineExecutor executor;
    private PipelineExecutor.StepResult last;

    public PipelineTrainer(RealModel model, DataSource data, Schedule schedule, Recompute policy, int replicas,
                           OptimizerSpec optimizer, Reduction reduction) {
        if (replicas < 1) throw new IllegalArgumentException("replicas must be >= 1, got " + replicas);
        this.data = data;
        this.schedule = schedule;
        this.replicas = replicas;
        this.reduction = reduction;
        this.shards = model.shards(model.partition(schedule.stages()));
        for (int s = 0; s < shards.size(); s++) optimizers.add(new OptimizerState(optimizer));
        this.executor = new PipelineExecutor(schedule, policy);
    }

    public List<StageShard> shards() { return shards; }

    /** The last replica's step result of the last step (execution order, messages, stash peaks). */
    public PipelineExecutor.StepResult lastStep() { return last; }

    /** All params in model order. */
    public List<Param> params() {
        List<Param> out = new ArrayList<>();
        for (StageShard s : shards) out.addAll(s.params());
        return out;
    }

    public TrainingResult train(int steps) {
        return train(0, steps);
    }

    /** Trains steps {@code firstStep .. firstStep + steps − 1} (data offsets follow the step number). */
    public TrainingResult train(int firstStep, int steps) {
        List<Double> losses = new ArrayList<>(steps);
        for (int step = firstStep; step < firstStep + steps; step++) losses.add(step(step));
        return new TrainingResult(losses, params());
    }

    /** A checkpoint: all params, then each stage's optimizer snapshot ({@link OptimizerState#snapshot}), stage order. */
    public List<Param> checkpoint() {
        List<Param> out = new ArrayList<>(params());
        for (int s = 0; s < shards.size(); s++) {
            for (Param p : optimizers.get(s).snapshot(shards.get(s).params())) {
                out.add(new Param("stage" + s + "." + p.name(), p.value()));
            }
        }
        return out;
    }

    /** Loads a {@link #checkpoint} (weights and optimizer state) taken with the same model, partition and optimizer. */
    public void restore(List<Param> checkpoint, OptimizerSpec optimizer) {
        WeightsFile.copyInto(params(), checkpoint);
        for (int s = 0; s < shards.size(); s++) {
            String prefix = "stage" + s + ".";
            List<Param> snap = new ArrayList<>();
            for (Param p : checkpoint) {
                if (p.name().startsWith(prefix + "optimizer.")) snap.add(new Param(p.name().substring(prefix.length()), p.value()));
            }
            optimizers.set(s, OptimizerState.restore(optimizer, snap));
        }
    }

    /** One step over all replicas; returns the step loss. */
    public double step(int step) {
        List<PipelineExecutor.StepResult> results = new ArrayList<>(replicas);
        for (int r = 0; r < replicas; r++) results.add(executor.run(shards, data, step, r, replicas));
        last = results.get(replicas - 1);
        double lossSum = 0;
        for (PipelineExecutor.StepResult res : results) for (double l : res.losses()) lossSum += l;
        for (int s = 0; s < shards.size(); s++) {
            List<DMatrixRMaj> grads;
            if (replicas == 1) {
                grads = results.get(0).gradients().get(s);
            } else {
                List<double[]> vectors = new ArrayList<>(replicas);
                for (PipelineExecutor.StepResult res : results) vectors.add(Tensors.flatten(res.gradients().get(s)));
                GradientAllReduce.Result reduced = reduction == Reduction.RING
                        ? GradientAllReduce.ring(vectors) : GradientAllReduce.canonical(vectors);
                grads = Tensors.unflatten(reduced.perRank()[0], results.get(0).gradients().get(s));
            }
            optimizers.get(s).step(shards.get(s).params(), grads);
        }
        return lossSum / ((double) schedule.microBatches() * replicas);
    }
}
