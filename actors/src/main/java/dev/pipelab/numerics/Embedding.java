package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Token plus learned position embedding: row i of a {@code (b·T) × 1} matrix of token ids becomes
 * {@code token[id_i] + position[i mod T]}. Invariant: the input is not differentiable (dX is 0 × 0), and the
 * weight gradients scatter-add the rows of dY in row order.
 */
public final class Embedding implements Layer {

    private final String name;
    private final int vocab;
    private final int sequenceLength;
    private final Param tokens;
    private final Param positions;

    /** Both tables uniform in ±0.5 (toy sizes; keeps initial logits small after the final norm). */
    public Embedding(String name, int vocab, int sequenceLength, int width, SplittableRandom rng) {
        this.name = name;
        this.vocab = vocab;
        this.sequenceLength = sequenceLength;
        this.tokens = new Param(name + ".tokens", Tensors.uniform(vocab, width, 0.5, rng));
        this.positions = new Param(name + ".positions", Tensors.uniform(sequenceLength, width, 0.5, rng));
    }

    @Override public String name() { return name; }

    @Override public List<Param> params() { return List.of(tokens, positions); }

    private record Fwd(int[] ids, DMatrixRMaj output) implements Forward {}

    private record Bwd(DMatrixRMaj outputGradient) implements Backward {
        @Override public DMatrixRMaj inputGradient() { return new DMatrixRMaj(0, 0); }
    }

    @Override
    public Forward forward(DMatrixRMaj x) {
        if (x.numCols != 1 || x.numRows % sequenceLength != 0) {
            throw new IllegalArgumentException(name + ": expected (b·" + sequenceLength + ") × 1 token ids, got "
                    + x.numRows + " × " + x.numCols);
        }
        int h = tokens.value().numCols;
        int[] ids = new int[x.numRows];
        DMatrixRMaj y = new DMatrixRMaj(x.numRows, h);
        for (int i = 0; i < x.numRows; i++) {
            int id = (int) x.data[i];
            if (id < 0 || id >= vocab || id != x.data[i]) {
                throw new IllegalArgumentException(name + ": token id must be an integer in [0, " + vocab + "), got " + x.data[i]);
            }
            ids[i] = id;
            int pos = i % sequenceLength;
            for (int c = 0; c < h; c++) {
                y.data[i * h + c] = tokens.value().data[id * h + c] + positions.value().data[pos * h + c];
            }
        }
        return new Fwd(ids, y);
    }

    @Override
    public Backward backwardInput(Forward forward, DMatrixRMaj dY) {
        return new Bwd(dY);
    }

    @Override
    public List<DMatrixRMaj> backwardWeight(Forward forward, Backward backward) {
        int[] ids = ((Fwd) forward).ids();
        DMatrixRMaj dY = ((Bwd) backward).outputGradient();
        int h = dY.numCols;
        DMatrixRMaj dT = new DMatrixRMaj(vocab, h);
        DMatrixRMaj dP = new DMatrixRMaj(sequenceLength, h);
        for (int i = 0; i < ids.length; i++) {
            int pos = i % sequenceLength;
            for (int c = 0; c < h; c++) {
                dT.data[ids[i] * h + c] += dY.data[i * h + c];
                dP.data[pos * h + c] += dY.data[i * h + c];
            }
        }
        return List.of(dT, dP);
    }
}
