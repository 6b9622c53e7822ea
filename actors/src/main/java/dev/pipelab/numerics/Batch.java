package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

/**
 * One micro-batch: stage 0's input and the last stage's targets. Invariant: both have one row per loss term
 * owner (b rows for the MLP, b·T rows for the transformer).
 *
 * @param inputs  MLP: {@code b × inputs} features; transformer: {@code (b·T) × 1} token ids
 * @param targets cross-entropy: {@code rows × 1} class ids; MSE: {@code rows × outputs}
 */
public record Batch(DMatrixRMaj inputs, DMatrixRMaj targets) {

    public Batch {
        if (inputs.numRows != targets.numRows) {
            throw new IllegalArgumentException("inputs have " + inputs.numRows + " rows but targets " + targets.numRows);
        }
    }
}
