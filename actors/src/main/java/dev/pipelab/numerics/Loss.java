package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

/**
 * A loss over one micro-batch; each constant has exactly one scenario name. Invariant: {@link #evaluate}
 * returns the mean loss over the micro-batch's terms and the gradient of (that mean × {@code 1/(m·d)}) with
 * respect to the output, i.e. each term's gradient times {@code seedScale = 1/(m·d·terms)} — so the plain sum
 * of all micro-batches' gradients over all replicas is the gradient of the step loss.
 */
public enum Loss {
    /**
     * Softmax cross-entropy; targets are class ids in an {@code N × 1} matrix; N terms. Gradient
     * {@code softmax(z) − onehot(y)} (e.g. Goodfellow, Bengio and Courville 2016, "Deep Learning", §6.2.2.3).
     */
    CROSS_ENTROPY("cross-entropy"),
    /** Mean squared error over all N·C elements; targets are {@code N × C}; gradient {@code 2(z − y)}. */
    MSE("mse");

    private final String scenarioName;

    Loss(String scenarioName) {
        this.scenarioName = scenarioName;
    }

    public String scenarioName() {
        return scenarioName;
    }

    /** The loss a scenario names, or an exception naming the choices. */
    public static Loss parse(String name) {
        for (Loss l : values()) if (l.scenarioName.equals(name)) return l;
        throw new IllegalArgumentException("unknown loss '" + name + "': expected cross-entropy or mse");
    }

    /** The mean loss of one micro-batch and the output gradient seeded into its backward. */
    public record Result(double loss, DMatrixRMaj outputGradient) {}

    /**
     * @param microBatches m, micro-batches per step and replica
     * @param replicas     d, data-parallel replicas
     */
    public Result evaluate(DMatrixRMaj output, DMatrixRMaj targets, int microBatches, int replicas) {
        int n = output.numRows;
        int c = output.numCols;
        DMatrixRMaj grad = new DMatrixRMaj(n, c);
        double sum = 0;
        if (this == CROSS_ENTROPY) {
            if (targets.numRows != n || targets.numCols != 1) {
                throw new IllegalArgumentException("cross-entropy targets must be " + n + " × 1 class ids, got "
                        + targets.numRows + " × " + targets.numCols);
            }
            double scale = 1.0 / ((double) microBatches * replicas * n);
            for (int r = 0; r < n; r++) {
                int row = r * c;
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < c; k++) max = Math.max(max, output.data[row + k]);
                double z = 0;
                for (int k = 0; k < c; k++) z += StrictMath.exp(output.data[row + k] - max);
                double logZ = StrictMath.log(z) + max;
                int y = (int) targets.data[r];
                if (y < 0 || y >= c) throw new IllegalArgumentException("class id must be in [0, " + c + "), got " + targets.data[r]);
                sum += logZ - output.data[row + y];
                for (int k = 0; k < c; k++) {
                    double p = StrictMath.exp(output.data[row + k] - logZ);
                    grad.data[row + k] = (k == y ? p - 1 : p) * scale;
                }
            }
            return new Result(sum / n, grad);
        }
        if (targets.numRows != n || targets.numCols != c) {
            throw new IllegalArgumentException("mse targets must be " + n + " × " + c + ", got "
                    + targets.numRows + " × " + targets.numCols);
        }
        double terms = (double) n * c;
        double scale = 1.0 / ((double) microBatches * replicas * terms);
        for (int i = 0; i < n * c; i++) {
            double d = output.data[i] - targets.data[i];
            sum += d * d;
            grad.data[i] = 2 * d * scale;
        }
        return new Result(sum / terms, grad);
    }
}
