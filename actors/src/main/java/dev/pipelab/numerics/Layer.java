package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

import java.util.List;

/**
 * A differentiable layer with its backward split in two: {@link #backwardInput} (dX, on the pipeline's
 * critical path, action B) and {@link #backwardWeight} (dW, deferrable, action W). Invariant: the three are
 * pure functions of their arguments and the current weights, so running them again (recomputation) or at
 * another time (split backward) gives the same bits.
 *
 * <p>Tensors are row-major {@code rows × features}; a transformer micro-batch of b sequences of length T is
 * {@code (b·T) × h}, sequence-major.
 */
public interface Layer {

    /** Name prefix of this layer's params, unique in the model. */
    String name();

    /** Trainable tensors in a fixed order; {@link #backwardWeight} returns gradients in the same order. */
    List<Param> params();

    /** Forward pass; the result holds the output and everything the backward needs. */
    Forward forward(DMatrixRMaj x);

    /** Input gradient dX from the output gradient dY; the result keeps what {@link #backwardWeight} needs. */
    Backward backwardInput(Forward forward, DMatrixRMaj outputGradient);

    /** Weight gradients (fresh matrices, one per param, same order and shapes) from what B left. */
    List<DMatrixRMaj> backwardWeight(Forward forward, Backward backward);

    /**
     * The forward state with the selectively recomputable part dropped (Korthikanti et al. 2022, §5: the
     * attention core). Layers without such a part return it unchanged.
     */
    default Forward shed(Forward forward) {
        return forward;
    }

    /** The inverse of {@link #shed}: recomputes the dropped part (and counts it). */
    default Forward restore(Forward forward) {
        return forward;
    }

    /** How many times {@link #restore} really recomputed something (attention cores), for tests. */
    default long recomputations() {
        return 0;
    }

    /** What a forward pass leaves. */
    interface Forward {
        DMatrixRMaj output();
    }

    /** What a backward-input pass leaves. */
    interface Backward {
        /** dX; a 0 × 0 matrix when the input is not differentiable (token ids). */
        DMatrixRMaj inputGradient();
    }
}
