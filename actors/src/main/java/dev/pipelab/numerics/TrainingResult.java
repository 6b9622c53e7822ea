package dev.pipelab.numerics;

import java.util.ArrayList;
import java.util.List;

/**
 * What a training run leaves: one loss per step and a snapshot of the final weights. Invariant: the weights
 * are deep copies in model param order, unaffected by later training.
 *
 * @param losses  step losses, step 0 first (the loss of the weights before that step's update)
 * @param weights final params in model order
 */
public record TrainingResult(List<Double> losses, List<Param> weights) {

    public TrainingResult {
        losses = List.copyOf(losses);
        List<Param> copy = new ArrayList<>(weights.size());
        for (Param p : weights) copy.add(new Param(p.name(), p.value().copy()));
        weights = List.copyOf(copy);
    }
}
