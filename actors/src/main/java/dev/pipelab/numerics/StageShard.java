package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

import java.util.ArrayList;
import java.util.List;

/**
 * The layers of one model stage, with the stage-level forward, backward-input (B), backward-weight (W) and
 * selective shed/restore. Invariant: a stage's output is exactly the next stage's input — the concatenation
 * of all shards' layers in stage order is the whole model, so running the shards one after another computes
 * what {@link SequentialTrainer} computes.
 */
public final class StageShard {

    private final int stage;
    private final int stages;
    private final List<Layer> layers;
    private final Loss loss;
    private long forwards;

    public StageShard(int stage, int stages, List<Layer> layers, Loss loss) {
        if (stage < 0 || stage >= stages) throw new IllegalArgumentException("stage must be in [0, " + stages + "), got " + stage);
        if (layers.isEmpty()) throw new IllegalArgumentException("stage " + stage + " holds no layer");
        this.stage = stage;
        this.stages = stages;
        this.layers = List.copyOf(layers);
        this.loss = loss;
    }

    /** What F leaves: the stage input and each layer's forward state (empty when only the input is kept). */
    public record Activations(DMatrixRMaj input, List<Layer.Forward> layers) {
        public Activations {
            layers = List.copyOf(layers);
        }

        /** The stage output (the activation sent to the next stage). */
        public DMatrixRMaj output() {
            if (layers.isEmpty()) throw new IllegalStateException("only the input was kept; recompute first");
            return layers.get(layers.size() - 1).output();
        }

        /** Whether the layer states are present (false after a full-recompute stash dropped them). */
        public boolean complete() {
            return !layers.isEmpty();
        }
    }

    /** What B leaves for W: each layer's backward state. */
    public record InputGradients(List<Layer.Backward> layers) {
        public InputGradients {
            layers = List.copyOf(layers);
        }

        /** dX of the stage input (sent to the previous stage; 0 × 0 on a transformer's stage 0). */
        public DMatrixRMaj inputGradient() {
            return layers.get(0).inputGradient();
        }
    }

    public int stage() { return stage; }

    public int stages() { return stages; }

    public boolean isFirst() { return stage == 0; }

    public boolean isLast() { return stage == stages - 1; }

    public List<Layer> layers() { return layers; }

    public Loss loss() { return loss; }

    /** All params of the stage's layers in layer order (the order of gradient lists). */
    public List<Param> params() {
        List<Param> out = new ArrayList<>();
        for (Layer l : layers) out.addAll(l.params());
        return out;
    }

    /** F (and R under full recomputation): runs every layer. Counted in {@link #forwards()}. */
    public Activations forward(DMatrixRMaj input) {
        forwards++;
        List<Layer.Forward> fs = new ArrayList<>(layers.size());
        DMatrixRMaj h = input;
        for (Layer l : layers) {
            Layer.Forward f = l.forward(h);
            fs.add(f);
            h = f.output();
        }
        return new Activations(input, fs);
    }

    /** B: the input gradient from the output gradient (on the last stage: the loss gradient). */
    public InputGradients backwardInput(Activations a, DMatrixRMaj outputGradient) {
        if (!a.complete()) throw new IllegalStateException("stage " + stage + ": backward needs the forward state; recompute first");
        Layer.Backward[] bs = new Layer.Backward[layers.size()];
        DMatrixRMaj g = outputGradient;
        for (int i = layers.size() - 1; i >= 0; i--) {
            bs[i] = layers.get(i).backwardInput(a.layers().get(i), g);
            g = bs[i].inputGradient();
        }
        return new InputGradients(List.of(bs));
    }

    /** W: weight gradients in {@link #params()} order, from what F and B left. */
    public List<DMatrixRMaj> backwardWeight(Activations a, InputGradients g) {
        List<DMatrixRMaj> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) out.addAll(layers.get(i).backwardWeight(a.layers().get(i), g.layers().get(i)));
        return out;
    }

    /** The forward state without the selectively recomputable parts (attention probabilities). */
    public Activations shed(Activations a) {
        List<Layer.Forward> out = new ArrayList<>(layers.size());
        for (int i = 0; i < layers.size(); i++) out.add(layers.get(i).shed(a.layers().get(i)));
        return new Activations(a.input(), out);
    }

    /** R under selective recomputation: recomputes what {@link #shed} dropped. */
    public Activations restore(Activations a) {
        List<Layer.Forward> out = new ArrayList<>(layers.size());
        for (int i = 0; i < layers.size(); i++) out.add(layers.get(i).restore(a.layers().get(i)));
        return new Activations(a.input(), out);
    }

    /** The last stage's loss for a micro-batch and the gradient seeded into its backward. */
    public Loss.Result loss(DMatrixRMaj output, DMatrixRMaj targets, int microBatches, int replicas) {
        if (!isLast()) throw new IllegalStateException("stage " + stage + " is not the last stage; only the last computes the loss");
        return loss.evaluate(output, targets, microBatches, replicas);
    }

    /** Stage forwards run so far (F and full-recompute R). */
    public long forwards() { return forwards; }

    /** Attention cores recomputed so far by selective R. */
    public long attentionRecomputations() {
        long n = 0;
        for (Layer l : layers) n += l.recomputations();
        return n;
    }
}
