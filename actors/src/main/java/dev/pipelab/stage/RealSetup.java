package dev.pipelab.stage;

import dev.pipelab.cluster.CborSerializable;
import dev.pipelab.model.Recompute;
import dev.pipelab.numerics.DataSource;
import dev.pipelab.numerics.OptimizerSpec;
import dev.pipelab.numerics.RealModel;
import dev.pipelab.numerics.SequenceData;
import dev.pipelab.numerics.TeacherData;

/**
 * Real-numerics mode as data (it travels with {@link StageSetup} to the node hosting the stage): the real model
 * (every stage builds the same initial weights from its seed and keeps its own model stages' units), the data
 * (MLP: a teacher network; transformer: token sequences, both seeded), the optimizer, the recomputation policy
 * the stash follows, and how replicas sum gradients. Invariant: two stages given equal setups hold equal
 * initial weights and read equal data for equal micro-batch indices.
 *
 * @param optimizer    {@code sgd} (learningRate, momentum) or {@code adam} (learningRate, beta1, beta2, epsilon)
 * @param canonical    canonical-order ring (bit-identical to the sequential reference for every d) or the plain ring
 */
public record RealSetup(RealModel model, int microBatchSize, long dataSeed, String optimizer, double learningRate,
                        double momentum, double beta1, double beta2, double epsilon, Recompute recompute,
                        boolean canonical) implements CborSerializable {

    public RealSetup {
        if (model == null || recompute == null) throw new IllegalArgumentException("model and recompute must be given");
        if (microBatchSize < 1) throw new IllegalArgumentException("microBatchSize must be >= 1, got " + microBatchSize);
        if (!optimizer.equals("sgd") && !optimizer.equals("adam")) {
            throw new IllegalArgumentException("optimizer must be sgd or adam, got " + optimizer);
        }
        optimizerSpec(optimizer, learningRate, momentum, beta1, beta2, epsilon); // validates
    }

    /** SGD with momentum. */
    public static RealSetup sgd(RealModel model, int microBatchSize, long dataSeed, double learningRate, double momentum,
                                Recompute recompute, boolean canonical) {
        return new RealSetup(model, microBatchSize, dataSeed, "sgd", learningRate, momentum, 0.9, 0.999, 1e-8, recompute, canonical);
    }

    /** Adam. */
    public static RealSetup adam(RealModel model, int microBatchSize, long dataSeed, OptimizerSpec.Adam adam,
                                 Recompute recompute, boolean canonical) {
        return new RealSetup(model, microBatchSize, dataSeed, "adam", adam.learningRate(), 0, adam.beta1(), adam.beta2(),
                adam.epsilon(), recompute, canonical);
    }

    public OptimizerSpec optimizerSpec() {
        return optimizerSpec(optimizer, learningRate, momentum, beta1, beta2, epsilon);
    }

    private static OptimizerSpec optimizerSpec(String kind, double lr, double momentum, double b1, double b2, double eps) {
        return kind.equals("sgd") ? new OptimizerSpec.Sgd(lr, momentum) : new OptimizerSpec.Adam(lr, b1, b2, eps);
    }

    /**
     * The largest message payload a run over {@code stages} model stages sends: an activation or input gradient
     * (b·T × h doubles), a ring message (at most a stage's whole gradient vector) or a stage's weights file.
     */
    public long largestPayloadBytes(int stages) {
        long rows = (long) microBatchSize * model.sequenceLength();
        long largest = dev.pipelab.numerics.TensorCodec.encodedBytes((int) rows, Math.max(model.width(), model.outputs()));
        for (dev.pipelab.numerics.StageShard shard : model.shards(model.partition(stages))) {
            largest = Math.max(largest, dev.pipelab.numerics.WeightsFile.encode(shard.params()).length);
        }
        return largest;
    }

    /** The data source: a teacher network for an MLP, token sequences for a transformer. */
    public DataSource data() {
        return model.kind() == RealModel.Kind.MLP
                ? TeacherData.forModel(model, microBatchSize, dataSeed)
                : SequenceData.forModel(model, microBatchSize, dataSeed);
    }
}
