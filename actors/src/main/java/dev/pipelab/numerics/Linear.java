package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code Y = X·W + 1·b}: W is {@code in × out}, b is {@code 1 × out}. Invariant: dX = dY·Wᵀ (B) and
 * dW = Xᵀ·dY, db = column sums of dY (W) are computed from the same cached X and dY whenever they run.
 */
public final class Linear implements Layer {

    private final String name;
    private final Param weight;
    private final Param bias;

    /** Initialised like PyTorch's {@code nn.Linear}: W and b uniform in ±1/√in (Kaiming-uniform, a = √5). */
    public Linear(String name, int in, int out, SplittableRandom rng) {
        this.name = name;
        double bound = 1.0 / StrictMath.sqrt(in);
        this.weight = new Param(name + ".weight", Tensors.uniform(in, out, bound, rng));
        this.bias = new Param(name + ".bias", Tensors.uniform(1, out, bound, rng));
    }

    @Override public String name() { return name; }

    @Override public List<Param> params() { return List.of(weight, bias); }

    private record Fwd(DMatrixRMaj input, DMatrixRMaj output) implements Forward {}

    private record Bwd(DMatrixRMaj outputGradient, DMatrixRMaj inputGradient) implements Backward {}

    @Override
    public Forward forward(DMatrixRMaj x) {
        DMatrixRMaj w = weight.value();
        if (x.numCols != w.numRows) {
            throw new IllegalArgumentException(name + ": input has " + x.numCols + " features, expected " + w.numRows);
        }
        DMatrixRMaj y = new DMatrixRMaj(x.numRows, w.numCols);
        CommonOps_DDRM.mult(x, w, y);
        double[] b = bias.value().data;
        for (int r = 0; r < y.numRows; r++) {
            int row = r * y.numCols;
            for (int c = 0; c < y.numCols; c++) y.data[row + c] += b[c];
        }
        return new Fwd(x, y);
    }

    @Override
    public Backward backwardInput(Forward forward, DMatrixRMaj dY) {
        DMatrixRMaj dX = new DMatrixRMaj(dY.numRows, weight.value().numRows);
        CommonOps_DDRM.multTransB(dY, weight.value(), dX);
        return new Bwd(dY, dX);
    }

    @Override
    public List<DMatrixRMaj> backwardWeight(Forward forward, Backward backward) {
        DMatrixRMaj x = ((Fwd) forward).input();
        DMatrixRMaj dY = ((Bwd) backward).outputGradient();
        DMatrixRMaj dW = new DMatrixRMaj(weight.value().numRows, weight.value().numCols);
        CommonOps_DDRM.multTransA(x, dY, dW);
        DMatrixRMaj db = CommonOps_DDRM.sumCols(dY, new DMatrixRMaj(1, dY.numCols));
        return List.of(dW, db);
    }
}
