package dev.pipelab.numerics;

import dev.pipelab.model.Partition;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A small real model as a value: an MLP or a decoder-only transformer, with its seed. Invariant: {@link #units}
 * builds the same weights, bit for bit, every time it is called with the same spec, and {@link #shards}
 * only groups those units — so the initial weights do not depend on the partition.
 *
 * <p>Units and partitioning: an MLP has {@code layers} units (Linear [+ LayerNorm] + activation; the last is
 * a plain Linear to {@code outputs}); they are partitioned with {@link Partition#uniform}. A transformer has an
 * embedding, {@code layers} blocks and a head (final norm + output projection to the vocabulary); the blocks
 * are partitioned, the embedding joins stage 0 and the head the last stage. Unit u draws its weights from its
 * own {@code SplittableRandom(mix(seed, u))}, params in a fixed order.
 *
 * @param kind           {@code mlp} or {@code transformer}
 * @param inputs         MLP input features (transformer: unused, 0)
 * @param width          hidden width h
 * @param layers         MLP layers or transformer blocks (the partitionable units)
 * @param outputs        MLP outputs (classes for cross-entropy); transformer: the vocabulary size
 * @param sequenceLength transformer sequence length T (MLP: 1)
 * @param heads          transformer attention heads (MLP: 0)
 * @param activation     the nonlinearity
 * @param layerNorm      whether LayerNorm is used (MLP: after each hidden Linear; transformer: pre-norm + final)
 * @param loss           the loss the last stage computes
 * @param seed           weight seed
 */
public record RealModel(Kind kind, int inputs, int width, int layers, int outputs, int sequenceLength, int heads,
                        Activation activation, boolean layerNorm, Loss loss, long seed) {

    /** Model family. */
    public enum Kind { MLP, TRANSFORMER }

    public RealModel {
        if (kind == null || activation == null || loss == null) throw new IllegalArgumentException("kind, activation and loss must be given");
        if (width < 1 || layers < 1 || outputs < 1) {
            throw new IllegalArgumentException("width, layers and outputs must be >= 1, got " + width + ", " + layers + ", " + outputs);
        }
        if (kind == Kind.MLP && inputs < 1) throw new IllegalArgumentException("mlp inputs must be >= 1, got " + inputs);
        if (kind == Kind.TRANSFORMER) {
            if (sequenceLength < 1) throw new IllegalArgumentException("sequenceLength must be >= 1, got " + sequenceLength);
            if (heads < 1 || width % heads != 0) {
                throw new IllegalArgumentException("width (" + width + ") must be a multiple of heads (" + heads + ")");
            }
            if (loss != Loss.CROSS_ENTROPY) throw new IllegalArgumentException("a transformer is trained with cross-entropy, got " + loss.scenarioName());
        }
    }

    public static RealModel mlp(int inputs, int width, int layers, int outputs, Activation activation, boolean layerNorm,
                                Loss loss, long seed) {
        return new RealModel(Kind.MLP, inputs, width, layers, outputs, 1, 0, activation, layerNorm, loss, seed);
    }

    public static RealModel transformer(int vocab, int sequenceLength, int width, int blocks, int heads,
                                        Activation activation, boolean layerNorm, long seed) {
        return new RealModel(Kind.TRANSFORMER, 0, width, blocks, vocab, sequenceLength, heads, activation, layerNorm,
                Loss.CROSS_ENTROPY, seed);
    }

    /** Loss terms per sample: T for the transformer (one per position), 1 for the MLP. */
    public int termsPerSample() {
        return kind == Kind.TRANSFORMER ? sequenceLength : 1;
    }

    /** All units in model order, freshly initialised from the seed. */
    public List<Layer> units() {
        List<Layer> out = new ArrayList<>();
        int u = 0;
        if (kind == Kind.MLP) {
            for (int i = 0; i < layers; i++) {
                SplittableRandom rng = new SplittableRandom(Tensors.mix(seed, u++));
                int in = i == 0 ? inputs : width;
                String name = "layer" + i;
                if (i == layers - 1) {
                    out.add(new Linear(name + ".linear", in, outputs, rng));
                    continue;
                }
                List<Layer> parts = new ArrayList<>();
                parts.add(new Linear(name + ".linear", in, width, rng));
                if (layerNorm) parts.add(new LayerNorm(name + ".norm", width));
                parts.add(new ActivationLayer(name + ".act", activation));
                out.add(new Chain(name, parts));
            }
            return out;
        }
        out.add(new Embedding("embed", outputs, sequenceLength, width, new SplittableRandom(Tensors.mix(seed, u++))));
        for (int i = 0; i < layers; i++) {
            SplittableRandom rng = new SplittableRandom(Tensors.mix(seed, u++));
            String name = "block" + i;
            List<Layer> attn = new ArrayList<>();
            if (layerNorm) attn.add(new LayerNorm(name + ".norm1", width));
            attn.add(new Attention(name + ".attn", width, heads, sequenceLength, rng));
            List<Layer> mlp = new ArrayList<>();
            if (layerNorm) mlp.add(new LayerNorm(name + ".norm2", width));
            mlp.add(new Linear(name + ".fc1", width, 4 * width, rng));
            mlp.add(new ActivationLayer(name + ".act", activation));
            mlp.add(new Linear(name + ".fc2", 4 * width, width, rng));
            out.add(new Chain(name, List.of(new Residual(new Chain(name + ".attnpath", attn)),
                    new Residual(new Chain(name + ".mlppath", mlp)))));
        }
        SplittableRandom rng = new SplittableRandom(Tensors.mix(seed, u));
        List<Layer> head = new ArrayList<>();
        if (layerNorm) head.add(new LayerNorm("head.norm", width));
        head.add(new Linear("head.linear", width, outputs, rng));
        out.add(new Chain("head", head));
        return out;
    }

    /** The uniform partition of the {@code layers} partitionable units onto {@code stages} model stages. */
    public Partition partition(int stages) {
        if (stages > layers) {
            throw new IllegalArgumentException("cannot split " + layers + " layers into " + stages
                    + " stages (p·v) of at least one layer; use more layers or fewer stages");
        }
        return Partition.uniform(layers, stages);
    }

    /** Fresh weights, grouped into one shard per model stage of {@code partition}. */
    public List<StageShard> shards(Partition partition) {
        if (partition.totalLayers() != layers) {
            throw new IllegalArgumentException("partition covers " + partition.totalLayers() + " layers, model has " + layers);
        }
        List<Layer> all = units();
        int offset = kind == Kind.TRANSFORMER ? 1 : 0;
        int stages = partition.stages();
        List<StageShard> out = new ArrayList<>(stages);
        for (int s = 0; s < stages; s++) {
            int from = offset + partition.firstLayer(s);
            int to = from + partition.layersOf(s);
            if (kind == Kind.TRANSFORMER && s == 0) from = 0;
            if (kind == Kind.TRANSFORMER && s == stages - 1) to = all.size();
            out.add(new StageShard(s, stages, all.subList(from, to), loss));
        }
        return out;
    }
}
