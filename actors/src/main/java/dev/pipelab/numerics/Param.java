package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

/**
 * A named trainable tensor: its name is unique within a model ({@code block2.attn.q.weight}) and its shape
 * never changes. The matrix is mutable on purpose: the optimizer updates it in place.
 *
 * @param name  model-wide unique name, the key of optimizer state and of the weights file
 * @param value the weights, updated in place by {@link OptimizerState#step}
 */
public record Param(String name, DMatrixRMaj value) {

    public Param {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("param name must be non-empty");
        if (value == null) throw new IllegalArgumentException("param " + name + ": value must be given");
    }
}
