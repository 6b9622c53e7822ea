package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

import java.util.SplittableRandom;

/**
 * Next-token prediction on arithmetic sequences: sample j is {@code x_t = (x_0 + t·k) mod V}, t = 0..T, with
 * x_0 uniform in [0, V) and the stride k uniform in {1, 2}, both from {@code SplittableRandom(mix(seed, j))};
 * input x_0..x_{T-1}, target x_1..x_T. Invariant: every target after the second position is determined by the
 * two tokens before it, so a model that attends to the previous token can drive the loss towards
 * {@code ln 2 / T} (only the first stride is a coin flip); one that ignores context stays near ln 2, far
 * below the ln V it starts from.
 */
public final class SequenceData implements DataSource {

    private final int vocab;
    private final int sequenceLength;
    private final int microBatchSize;
    private final long seed;

    public SequenceData(int vocab, int sequenceLength, int microBatchSize, long seed) {
        if (vocab < 3 || sequenceLength < 1 || microBatchSize < 1) {
            throw new IllegalArgumentException("need vocab >= 3, sequenceLength >= 1, microBatchSize >= 1");
        }
        this.vocab = vocab;
        this.sequenceLength = sequenceLength;
        this.microBatchSize = microBatchSize;
        this.seed = seed;
    }

    /** Data for {@code model} (a transformer), b sequences per micro-batch. */
    public static SequenceData forModel(RealModel model, int microBatchSize, long seed) {
        return new SequenceData(model.outputs(), model.sequenceLength(), microBatchSize, seed);
    }

    @Override public int microBatchSize() { return microBatchSize; }

    @Override
    public Batch microBatch(long index) {
        int rows = microBatchSize * sequenceLength;
        DMatrixRMaj x = new DMatrixRMaj(rows, 1);
        DMatrixRMaj y = new DMatrixRMaj(rows, 1);
        for (int i = 0; i < microBatchSize; i++) {
            SplittableRandom rng = new SplittableRandom(Tensors.mix(seed, index * microBatchSize + i));
            int start = rng.nextInt(vocab);
            int stride = 1 + rng.nextInt(2);
            for (int t = 0; t < sequenceLength; t++) {
                x.data[i * sequenceLength + t] = (start + t * stride) % vocab;
                y.data[i * sequenceLength + t] = (start + (t + 1) * stride) % vocab;
            }
        }
        return new Batch(x, y);
    }
}
