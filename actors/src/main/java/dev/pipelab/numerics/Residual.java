package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

import java.util.List;

/** {@code Y = X + inner(X)}; invariant: dX = dY + inner's dX (in that order), weight gradients are inner's. */
public final class Residual implements Layer {

    private final Layer inner;

    public Residual(Layer inner) {
        this.inner = inner;
    }

    @Override public String name() { return inner.name(); }

    @Override public List<Param> params() { return inner.params(); }

    private record Fwd(Forward inner, DMatrixRMaj output) implements Forward {}

    private record Bwd(Backward inner, DMatrixRMaj inputGradient) implements Backward {}

    @Override
    public Forward forward(DMatrixRMaj x) {
        Forward f = inner.forward(x);
        DMatrixRMaj y = new DMatrixRMaj(x.numRows, x.numCols);
        CommonOps_DDRM.add(x, f.output(), y);
        return new Fwd(f, y);
    }

    @Override
    public Backward backwardInput(Forward forward, DMatrixRMaj dY) {
        Backward b = inner.backwardInput(((Fwd) forward).inner(), dY);
        DMatrixRMaj dX = new DMatrixRMaj(dY.numRows, dY.numCols);
        CommonOps_DDRM.add(dY, b.inputGradient(), dX);
        return new Bwd(b, dX);
    }

    @Override
    public List<DMatrixRMaj> backwardWeight(Forward forward, Backward backward) {
        return inner.backwardWeight(((Fwd) forward).inner(), ((Bwd) backward).inner());
    }

    @Override
    public Forward shed(Forward forward) {
        Fwd f = (Fwd) forward;
        return new Fwd(inner.shed(f.inner()), f.output());
    }

    @Override
    public Forward restore(Forward forward) {
        Fwd f = (Fwd) forward;
        return new Fwd(inner.restore(f.inner()), f.output());
    }

    @Override
    public long recomputations() {
        return inner.recomputations();
    }
}
