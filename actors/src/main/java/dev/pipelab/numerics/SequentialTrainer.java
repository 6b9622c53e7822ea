package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

import java.util.ArrayList;
import java.util.List;

/**
 * The reference: the whole model in one thread, no schedule. Invariant: each step runs, for each replica r in
 * order and each micro-batch in order, the forward then the backward of every layer (dX then dW per layer),
 * sums the micro-batch gradients in micro-batch order, sums the replicas' sums in replica order, and takes one
 * optimizer step — the right answer every pipelined run must reproduce.
 */
public final class SequentialTrainer {

    private final RealModel model;
    private final DataSource data;
    private final int microBatches;
    private final int replicas;
    private final List<Layer> layers;
    private final List<Param> params = new ArrayList<>();
    private final OptimizerState optimizer;

    public SequentialTrainer(RealModel model, DataSource data, int microBatches, int replicas, OptimizerSpec optimizer) {
        if (microBatches < 1 || replicas < 1) throw new IllegalArgumentException("microBatches and replicas must be >= 1");
        this.model = model;
        this.data = data;
        this.microBatches = microBatches;
        this.replicas = replicas;
        this.layers = model.units();
        for (Layer l : layers) params.addAll(l.params());
        this.optimizer = new OptimizerState(optimizer);
    }

    /** The live params in model order. */
    public List<Param> params() {
        return params;
    }

    /** Trains {@code steps} steps from the current weights. */
    public TrainingResult train(int steps) {
        List<Double> losses = new ArrayList<>(steps);
        for (int step = 0; step < steps; step++) losses.add(step(step));
        return new TrainingResult(losses, params);
    }

    /** One step; returns its loss. */
    public double step(int step) {
        List<List<DMatrixRMaj>> replicaSums = new ArrayList<>(replicas);
        double lossSum = 0;
        for (int r = 0; r < replicas; r++) {
            List<List<DMatrixRMaj>> perMicroBatch = new ArrayList<>(microBatches);
            for (int mb = 0; mb < microBatches; mb++) {
                Batch batch = data.microBatch(DataSource.index(step, r, mb, microBatches, replicas));
                List<Layer.Forward> fs = new ArrayList<>(layers.size());
                DMatrixRMaj h = batch.inputs();
                for (Layer l : layers) {
                    Layer.Forward f = l.forward(h);
                    fs.add(f);
                    h = f.output();
                }
                Loss.Result loss = model.loss().evaluate(h, batch.targets(), microBatches, replicas);
                lossSum += loss.loss();
                Layer.Backward[] bs = new Layer.Backward[layers.size()];
                DMatrixRMaj g = loss.outputGradient();
                for (int i = layers.size() - 1; i >= 0; i--) {
                    bs[i] = layers.get(i).backwardInput(fs.get(i), g);
                    g = bs[i].inputGradient();
                }
                List<DMatrixRMaj> grads = new ArrayList<>();
                for (int i = 0; i < layers.size(); i++) grads.addAll(layers.get(i).backwardWeight(fs.get(i), bs[i]));
                perMicroBatch.add(grads);
            }
            replicaSums.add(Tensors.sumInOrder(perMicroBatch));
        }
        optimizer.step(params, Tensors.sumInOrder(replicaSums));
        return lossSum / ((double) microBatches * replicas);
    }
}
