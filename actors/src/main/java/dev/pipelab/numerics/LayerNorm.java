package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

import java.util.List;

/**
 * Layer normalisation over each row's features (Ba, Kiros and Hinton 2016, "Layer Normalization", eq. 4):
 * {@code y = (x − μ)/√(σ² + ε)·γ + β}, σ² the biased variance. Invariant: γ starts at 1 and β at 0, and the
 * backward uses the cached x̂ and 1/√(σ² + ε) of the same forward.
 */
public final class LayerNorm implements Layer {

    private static final double EPS = 1e-5;

    private final String name;
    private final Param gain;
    private final Param shift;

    public LayerNorm(String name, int features) {
        this.name = name;
        DMatrixRMaj g = new DMatrixRMaj(1, features);
        g.fill(1.0);
        this.gain = new Param(name + ".gain", g);
        this.shift = new Param(name + ".shift", new DMatrixRMaj(1, features));
    }

    @Override public String name() { return name; }

    @Override public List<Param> params() { return List.of(gain, shift); }

    private record Fwd(DMatrixRMaj normalized, double[] inverseStd, DMatrixRMaj output) implements Forward {}

    private record Bwd(DMatrixRMaj outputGradient, DMatrixRMaj inputGradient) implements Backward {}

    @Override
    public Forward forward(DMatrixRMaj x) {
        int n = x.numCols;
        DMatrixRMaj xhat = new DMatrixRMaj(x.numRows, n);
        DMatrixRMaj y = new DMatrixRMaj(x.numRows, n);
        double[] rstd = new double[x.numRows];
        double[] g = gain.value().data;
        double[] b = shift.value().data;
        for (int r = 0; r < x.numRows; r++) {
            int row = r * n;
            double mean = 0;
            for (int c = 0; c < n; c++) mean += x.data[row + c];
            mean /= n;
            double var = 0;
            for (int c = 0; c < n; c++) {
                double d = x.data[row + c] - mean;
                var += d * d;
            }
            var /= n;
            rstd[r] = 1.0 / StrictMath.sqrt(var + EPS);
            for (int c = 0; c < n; c++) {
                double h = (x.data[row + c] - mean) * rstd[r];
                xhat.data[row + c] = h;
                y.data[row + c] = h * g[c] + b[c];
            }
        }
        return new Fwd(xhat, rstd, y);
    }

    @Override
    public Backward backwardInput(Forward forward, DMatrixRMaj dY) {
        Fwd f = (Fwd) forward;
        int n = dY.numCols;
        double[] g = gain.value().data;
        DMatrixRMaj dX = new DMatrixRMaj(dY.numRows, n);
        double[] dxhat = new double[n];
        for (int r = 0; r < dY.numRows; r++) {
            int row = r * n;
            double meanD = 0;
            double meanDX = 0;
            for (int c = 0; c < n; c++) {
                dxhat[c] = dY.data[row + c] * g[c];
                meanD += dxhat[c];
                meanDX += dxhat[c] * f.normalized().data[row + c];
            }
            meanD /= n;
            meanDX /= n;
            for (int c = 0; c < n; c++) {
                dX.data[row + c] = f.inverseStd()[r] * (dxhat[c] - meanD - f.normalized().data[row + c] * meanDX);
            }
        }
        return new Bwd(dY, dX);
    }

    @Override
    public List<DMatrixRMaj> backwardWeight(Forward forward, Backward backward) {
        DMatrixRMaj xhat = ((Fwd) forward).normalized();
        DMatrixRMaj dY = ((Bwd) backward).outputGradient();
        int n = dY.numCols;
        DMatrixRMaj dG = new DMatrixRMaj(1, n);
        DMatrixRMaj dB = new DMatrixRMaj(1, n);
        for (int r = 0; r < dY.numRows; r++) {
            int row = r * n;
            for (int c = 0; c < n; c++) {
                dG.data[c] += dY.data[row + c] * xhat.data[row + c];
                dB.data[c] += dY.data[row + c];
            }
        }
        return List.of(dG, dB);
    }
}
