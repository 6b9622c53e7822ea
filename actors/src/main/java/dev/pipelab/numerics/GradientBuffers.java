package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One stage's weight gradients for one step, one buffer per micro-batch. Invariant: {@link #sum} adds the
 * buffers in micro-batch index order, whatever order they were filled in — so the result does not depend on
 * the schedule.
 */
public final class GradientBuffers {

    private final int stage;
    private final List<DMatrixRMaj>[] buffers;
    private int filled;

    @SuppressWarnings("unchecked")
    public GradientBuffers(int stage, int microBatches) {
        this.stage = stage;
        this.buffers = new List[microBatches];
    }

    /** Stores micro-batch {@code mb}'s gradients; each micro-batch exactly once. */
    public void put(int mb, List<DMatrixRMaj> grads) {
        if (mb < 0 || mb >= buffers.length) throw new IllegalArgumentException("stage " + stage + ": micro-batch must be in [0, " + buffers.length + "), got " + mb);
        if (buffers[mb] != null) throw new IllegalStateException("stage " + stage + ": gradients of micro-batch " + mb + " stored twice");
        buffers[mb] = List.copyOf(grads);
        filled++;
    }

    /** Whether every micro-batch's gradients are in. */
    public boolean isComplete() {
        return filled == buffers.length;
    }

    /** The sum in micro-batch order: ((g0 + g1) + g2) + ... */
    public List<DMatrixRMaj> sum() {
        if (!isComplete()) {
            List<Integer> missing = new ArrayList<>();
            for (int i = 0; i < buffers.length; i++) if (buffers[i] == null) missing.add(i);
            throw new IllegalStateException("stage " + stage + ": gradients missing for micro-batches " + missing);
        }
        return Tensors.sumInOrder(Arrays.asList(buffers));
    }
}
