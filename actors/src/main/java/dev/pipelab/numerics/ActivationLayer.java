package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

import java.util.List;

/** {@code Y = f(X)} element-wise; invariant: no params, dX = dY ⊙ f'(X) from the cached X. */
public final class ActivationLayer implements Layer {

    private final String name;
    private final Activation activation;

    public ActivationLayer(String name, Activation activation) {
        this.name = name;
        this.activation = activation;
    }

    @Override public String name() { return name; }

    @Override public List<Param> params() { return List.of(); }

    private record Fwd(DMatrixRMaj input, DMatrixRMaj output) implements Forward {}

    private record Bwd(DMatrixRMaj inputGradient) implements Backward {}

    @Override
    public Forward forward(DMatrixRMaj x) {
        DMatrixRMaj y = new DMatrixRMaj(x.numRows, x.numCols);
        for (int i = 0; i < x.getNumElements(); i++) y.data[i] = activation.apply(x.data[i]);
        return new Fwd(x, y);
    }

    @Override
    public Backward backwardInput(Forward forward, DMatrixRMaj dY) {
        DMatrixRMaj x = ((Fwd) forward).input();
        DMatrixRMaj dX = new DMatrixRMaj(x.numRows, x.numCols);
        for (int i = 0; i < x.getNumElements(); i++) dX.data[i] = dY.data[i] * activation.derivative(x.data[i]);
        return new Bwd(dX);
    }

    @Override
    public List<DMatrixRMaj> backwardWeight(Forward forward, Backward backward) {
        return List.of();
    }
}
