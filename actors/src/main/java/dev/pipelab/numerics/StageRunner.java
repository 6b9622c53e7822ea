package dev.pipelab.numerics;

import dev.pipelab.model.Recompute;
import org.ejml.data.DMatrixRMaj;

import java.util.List;

/**
 * The real-numerics side of one (replica, model stage) for one step: one method per schedule action. Invariant:
 * given the same inputs, F/R/B/W compute the same bits whatever order the schedule runs them in; gradients land
 * in per-micro-batch buffers summed in micro-batch order.
 *
 * <p>This is what a {@code Stage} actor calls: F with the activation received from the previous stage (stage 0:
 * the batch inputs) and, on the last stage, the targets; B with the gradient received from the next stage
 * (last stage: nothing, the loss gradient is stashed); W; R.
 */
public final class StageRunner {

    private final StageShard shard;
    private final boolean splitBackward;
    private final int microBatches;
    private final int replicas;
    private final StageStash stash;
    private final GradientBuffers gradients;
    private final double[] losses;

    /**
     * @param splitBackward whether the schedule splits W from B (zero-bubble); otherwise B also computes dW
     * @param microBatches  m, micro-batches per step (for loss scaling and buffers)
     * @param replicas      d, data-parallel replicas (for loss scaling)
     */
    public StageRunner(StageShard shard, Recompute policy, boolean splitBackward, int microBatches, int replicas) {
        this.shard = shard;
        this.splitBackward = splitBackward;
        this.microBatches = microBatches;
        this.replicas = replicas;
        this.stash = new StageStash(policy);
        this.gradients = new GradientBuffers(shard.stage(), microBatches);
        this.losses = new double[microBatches];
    }

    public StageShard shard() { return shard; }

    public StageStash stash() { return stash; }

    public GradientBuffers gradients() { return gradients; }

    /**
     * F: returns the output activation to send on (the last stage returns its logits, which go nowhere).
     *
     * @param targets the micro-batch's targets on the last stage; ignored (may be 0 × 0) elsewhere
     */
    public DMatrixRMaj forward(int mb, DMatrixRMaj input, DMatrixRMaj targets) {
        StageShard.Activations a = shard.forward(input);
        DMatrixRMaj lossGradient = null;
        if (shard.isLast()) {
            Loss.Result r = shard.loss(a.output(), targets, microBatches, replicas);
            losses[mb] = r.loss();
            lossGradient = r.outputGradient();
        }
        stash.afterForward(mb, shard, a, shard.isLast() ? targets : null, lossGradient);
        return a.output();
    }

    /** R: recomputes what the policy dropped (full: the whole stage forward; selective: attention cores). */
    public void recompute(int mb) {
        stash.recompute(mb, shard, microBatches, replicas);
    }

    /**
     * B: returns the input gradient to send to the previous stage (0 × 0 on a transformer's stage 0).
     *
     * @param outputGradient the gradient from the next stage; ignored (may be 0 × 0) on the last stage
     */
    public DMatrixRMaj backward(int mb, DMatrixRMaj outputGradient) {
        StageShard.Activations a = stash.activationsForBackward(mb, shard);
        DMatrixRMaj dY = shard.isLast() ? stash.lossGradient(mb, shard) : outputGradient;
        StageShard.InputGradients g = shard.backwardInput(a, dY);
        if (!splitBackward) gradients.put(mb, shard.backwardWeight(a, g));
        stash.afterBackward(mb, shard, g, splitBackward);
        return g.inputGradient();
    }

    /** W: the weight gradients from what F and B left; frees the micro-batch's stash entry. */
    public void weight(int mb) {
        if (!splitBackward) throw new IllegalStateException("stage " + shard.stage() + ": W in a schedule that does not split the backward");
        StageStash.Entry e = stash.forWeight(mb, shard);
        gradients.put(mb, shard.backwardWeight(stash.activations(e), stash.inputGradients(e)));
        stash.remove(mb);
    }

    /** The last stage's per-micro-batch losses (zeros elsewhere). */
    public double[] losses() {
        return losses.clone();
    }

    /** The step's weight gradients summed in micro-batch order; throws if a micro-batch is missing. */
    public List<DMatrixRMaj> gradientSum() {
        return gradients.sum();
    }
}
