package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

import java.util.SplittableRandom;

/**
 * Regression or classification data labelled by a fixed random teacher network {@code tanh(x·A)·B}
 * (A: inputs × 16, B: 16 × outputs). Invariant: sample j's features come from its own
 * {@code SplittableRandom(mix(seed, j))}, uniform in [-1, 1); with {@link Loss#CROSS_ENTROPY} its label is the
 * teacher's arg-max class, with {@link Loss#MSE} its target is the teacher's output.
 */
public final class TeacherData implements DataSource {

    private static final int TEACHER_WIDTH = 16;

    private final int inputs;
    private final int outputs;
    private final int microBatchSize;
    private final Loss loss;
    private final long seed;
    private final DMatrixRMaj a;
    private final DMatrixRMaj b;

    public TeacherData(int inputs, int outputs, int microBatchSize, Loss loss, long seed) {
        if (inputs < 1 || outputs < 1 || microBatchSize < 1) {
            throw new IllegalArgumentException("inputs, outputs and microBatchSize must be >= 1");
        }
        this.inputs = inputs;
        this.outputs = outputs;
        this.microBatchSize = microBatchSize;
        this.loss = loss;
        this.seed = seed;
        SplittableRandom rng = new SplittableRandom(Tensors.mix(seed, -1));
        this.a = Tensors.uniform(inputs, TEACHER_WIDTH, 2.0 / StrictMath.sqrt(inputs), rng);
        this.b = Tensors.uniform(TEACHER_WIDTH, outputs, 2.0 / StrictMath.sqrt(TEACHER_WIDTH), rng);
    }

    /** Data for {@code model} (an MLP), b samples per micro-batch. */
    public static TeacherData forModel(RealModel model, int microBatchSize, long seed) {
        return new TeacherData(model.inputs(), model.outputs(), microBatchSize, model.loss(), seed);
    }

    @Override public int microBatchSize() { return microBatchSize; }

    @Override
    public Batch microBatch(long index) {
        DMatrixRMaj x = new DMatrixRMaj(microBatchSize, inputs);
        for (int i = 0; i < microBatchSize; i++) {
            SplittableRandom rng = new SplittableRandom(Tensors.mix(seed, index * microBatchSize + i));
            for (int c = 0; c < inputs; c++) x.data[i * inputs + c] = 2 * rng.nextDouble() - 1;
        }
        DMatrixRMaj hidden = new DMatrixRMaj(microBatchSize, TEACHER_WIDTH);
        CommonOps_DDRM.mult(x, a, hidden);
        for (int i = 0; i < hidden.data.length; i++) hidden.data[i] = StrictMath.tanh(hidden.data[i]);
        DMatrixRMaj y = new DMatrixRMaj(microBatchSize, outputs);
        CommonOps_DDRM.mult(hidden, b, y);
        if (loss == Loss.MSE) return new Batch(x, y);
        DMatrixRMaj labels = new DMatrixRMaj(microBatchSize, 1);
        for (int i = 0; i < microBatchSize; i++) {
            int best = 0;
            for (int c = 1; c < outputs; c++) if (y.data[i * outputs + c] > y.data[i * outputs + best]) best = c;
            labels.data[i] = best;
        }
        return new Batch(x, labels);
    }
}
