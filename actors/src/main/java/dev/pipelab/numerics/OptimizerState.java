package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The optimizer state of a set of params (one stage, or the whole model), keyed by param name. Invariant: the
 * update is element-wise, so splitting the params into stages does not change a single bit.
 */
public final class OptimizerState {

    private final OptimizerSpec spec;
    private final Map<String, double[]> first = new HashMap<>();
    private final Map<String, double[]> second = new HashMap<>();
    private int steps;

    public OptimizerState(OptimizerSpec spec) {
        this.spec = spec;
    }

    /** Steps taken so far (Adam's t after the last step). */
    public int steps() { return steps; }

    /** Name of the step counter in a {@link #snapshot}. */
    public static final String STEPS_NAME = "optimizer.steps";

    /**
     * The state as tensors for a checkpoint ({@link WeightsFile}): {@code optimizer.steps} (1 × 1), then per
     * param of {@code params}, in order, {@code optimizer.m/<name>} and (Adam) {@code optimizer.v/<name>}, each
     * 1 × n; zeros for a param not stepped yet. {@link #restore} of it continues bit-identically.
     */
    public List<Param> snapshot(List<Param> params) {
        List<Param> out = new ArrayList<>();
        out.add(new Param(STEPS_NAME, new DMatrixRMaj(1, 1, true, steps)));
        for (Param p : params) {
            int n = p.value().getNumElements();
            out.add(new Param("optimizer.m/" + p.name(), DMatrixRMaj.wrap(1, n, first.getOrDefault(p.name(), new double[n]).clone())));
            if (spec instanceof OptimizerSpec.Adam) {
                out.add(new Param("optimizer.v/" + p.name(), DMatrixRMaj.wrap(1, n, second.getOrDefault(p.name(), new double[n]).clone())));
            }
        }
        return out;
    }

    /** The state a {@link #snapshot} describes, for {@code spec}. */
    public static OptimizerState restore(OptimizerSpec spec, List<Param> snapshot) {
        OptimizerState s = new OptimizerState(spec);
        if (snapshot.isEmpty() || !snapshot.get(0).name().equals(STEPS_NAME)) {
            throw new IllegalArgumentException("an optimizer snapshot starts with " + STEPS_NAME);
        }
        s.steps = (int) snapshot.get(0).value().get(0, 0);
        for (Param p : snapshot.subList(1, snapshot.size())) {
            if (p.name().startsWith("optimizer.m/")) s.first.put(p.name().substring(12), p.value().data.clone());
            else if (p.name().startsWith("optimizer.v/")) s.second.put(p.name().substring(12), p.value().data.clone());
            else throw new IllegalArgumentException("not an optimizer tensor: " + p.name());
        }
        return s;
    }

    /** Updates {@code params} in place with {@code grads} (same order and shapes). */
    public void step(List<Param> params, List<DMatrixRMaj> grads) {
        if (params.size() != grads.size()) {
            throw new IllegalArgumentException("expected " + params.size() + " gradients, got " + grads.size());
        }
        steps++;
        for (int k = 0; k < params.size(); k++) {
            Param p = params.get(k);
            DMatrixRMaj g = grads.get(k);
            double[] w = p.value().data;
            int n = p.value().getNumElements();
            if (g.getNumElements() != n) {
                throw new IllegalArgumentException(p.name() + ": gradient has " + g.getNumElements() + " elements, expected " + n);
            }
            double[] m = first.computeIfAbsent(p.name(), x -> new double[n]);
            if (spec instanceof OptimizerSpec.Sgd sgd) {
                for (int i = 0; i < n; i++) {
                    m[i] = sgd.momentum() * m[i] + g.data[i];
                    w[i] -= sgd.learningRate() * m[i];
                }
            } else {
                OptimizerSpec.Adam adam = (OptimizerSpec.Adam) spec;
                double[] v = second.computeIfAbsent(p.name(), x -> new double[n]);
                double c1 = 1 - StrictMath.pow(adam.beta1(), steps);
                double c2 = 1 - StrictMath.pow(adam.beta2(), steps);
                for (int i = 0; i < n; i++) {
                    double gi = g.data[i];
                    m[i] = adam.beta1() * m[i] + (1 - adam.beta1()) * gi;
                    v[i] = adam.beta2() * v[i] + (1 - adam.beta2()) * gi * gi;
                    w[i] -= adam.learningRate() * (m[i] / c1) / (StrictMath.sqrt(v[i] / c2) + adam.epsilon());
                }
            }
        }
    }
}
