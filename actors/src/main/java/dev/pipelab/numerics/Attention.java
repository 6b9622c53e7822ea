package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Causal multi-head self-attention (Vaswani et al. 2017, "Attention Is All You Need", §3.2.1–3.2.2):
 * per sequence and head, {@code softmax(Q·Kᵀ/√d_k + causal mask)·V}, heads concatenated, then the output
 * projection. Invariant: position i attends only to positions ≤ i of its own sequence.
 *
 * <p>The attention probabilities (the "core", b·a·T² values) are what selective recomputation drops
 * (Korthikanti et al. 2022, §5): {@link #shed} removes them, {@link #restore} recomputes them from the cached
 * Q and K with the very same code, so the bits do not change.
 */
public final class Attention implements Layer {

    private final String name;
    private final int heads;
    private final int sequenceLength;
    private final Linear query;
    private final Linear key;
    private final Linear value;
    private final Linear out;
    private long recomputations;

    public Attention(String name, int width, int heads, int sequenceLength, SplittableRandom rng) {
        if (heads < 1 || width % heads != 0) {
            throw new IllegalArgumentException(name + ": width " + width + " must be a multiple of heads " + heads);
        }
        this.name = name;
        this.heads = heads;
        this.sequenceLength = sequenceLength;
        this.query = new Linear(name + ".q", width, width, rng);
        this.key = new Linear(name + ".k", width, width, rng);
        this.value = new Linear(name + ".v", width, width, rng);
        this.out = new Linear(name + ".o", width, width, rng);
    }

    @Override public String name() { return name; }

    @Override
    public List<Param> params() {
        List<Param> ps = new ArrayList<>(8);
        ps.addAll(query.params());
        ps.addAll(key.params());
        ps.addAll(value.params());
        ps.addAll(out.params());
        return ps;
    }

    /** {@code probabilities} (per sequence s and head j at index s·heads + j) is empty after {@link #shed}. */
    private record Fwd(Forward q, Forward k, Forward v, List<DMatrixRMaj> probabilities, Forward o) implements Forward {
        @Override public DMatrixRMaj output() { return o.output(); }
    }

    private record Bwd(Backward q, Backward k, Backward v, Backward o, DMatrixRMaj inputGradient) implements Backward {}

    @Override
    public Forward forward(DMatrixRMaj x) {
        Forward q = query.forward(x);
        Forward k = key.forward(x);
        Forward v = value.forward(x);
        List<DMatrixRMaj> probs = probabilities(q.output(), k.output());
        int dk = x.numCols / heads;
        DMatrixRMaj mixed = new DMatrixRMaj(x.numRows, x.numCols);
        DMatrixRMaj head = new DMatrixRMaj(sequenceLength, dk);
        for (int s = 0; s < x.numRows / sequenceLength; s++) {
            for (int j = 0; j < heads; j++) {
                DMatrixRMaj vs = block(v.output(), s, j, dk);
                CommonOps_DDRM.mult(probs.get(s * heads + j), vs, head);
                CommonOps_DDRM.insert(head, mixed, s * sequenceLength, j * dk);
            }
        }
        return new Fwd(q, k, v, probs, out.forward(mixed));
    }

    private List<DMatrixRMaj> probabilities(DMatrixRMaj q, DMatrixRMaj k) {
        int dk = q.numCols / heads;
        double scale = 1.0 / StrictMath.sqrt(dk);
        int t = sequenceLength;
        List<DMatrixRMaj> probs = new ArrayList<>();
        for (int s = 0; s < q.numRows / t; s++) {
            for (int j = 0; j < heads; j++) {
                DMatrixRMaj scores = new DMatrixRMaj(t, t);
                CommonOps_DDRM.multTransB(block(q, s, j, dk), block(k, s, j, dk), scores);
                for (int r = 0; r < t; r++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int c = 0; c <= r; c++) max = Math.max(max, scores.data[r * t + c] * scale);
                    double sum = 0;
                    for (int c = 0; c < t; c++) {
                        double e = c <= r ? StrictMath.exp(scores.data[r * t + c] * scale - max) : 0.0;
                        scores.data[r * t + c] = e;
                        sum += e;
                    }
                    for (int c = 0; c <= r; c++) scores.data[r * t + c] /= sum;
                }
                probs.add(scores);
            }
        }
        return probs;
    }

    /** Rows of sequence s, columns of head j. */
    private DMatrixRMaj block(DMatrixRMaj m, int s, int j, int dk) {
        return CommonOps_DDRM.extract(m, s * sequenceLength, (s + 1) * sequenceLength, j * dk, (j + 1) * dk);
    }

    @Override
    public Backward backwardInput(Forward forward, DMatrixRMaj dY) {
        Fwd f = (Fwd) forward;
        if (f.probabilities().isEmpty()) throw new IllegalStateException(name + ": backward after shed without restore");
        Backward ob = out.backwardInput(f.o(), dY);
        DMatrixRMaj dMixed = ob.inputGradient();
        int rows = dY.numRows;
        int width = dY.numCols;
        int dk = width / heads;
        int t = sequenceLength;
        double scale = 1.0 / StrictMath.sqrt(dk);
        DMatrixRMaj dQ = new DMatrixRMaj(rows, width);
        DMatrixRMaj dK = new DMatrixRMaj(rows, width);
        DMatrixRMaj dV = new DMatrixRMaj(rows, width);
        DMatrixRMaj dP = new DMatrixRMaj(t, t);
        DMatrixRMaj part = new DMatrixRMaj(t, dk);
        for (int s = 0; s < rows / t; s++) {
            for (int j = 0; j < heads; j++) {
                DMatrixRMaj p = f.probabilities().get(s * heads + j);
                DMatrixRMaj dHead = block(dMixed, s, j, dk);
                CommonOps_DDRM.multTransB(dHead, block(f.v().output(), s, j, dk), dP);
                CommonOps_DDRM.multTransA(p, dHead, part);
                CommonOps_DDRM.insert(part, dV, s * t, j * dk);
                // softmax backward: dS = P ⊙ (dP − rowsum(dP ⊙ P)), then the 1/√d_k of the scores
                DMatrixRMaj dS = new DMatrixRMaj(t, t);
                for (int r = 0; r < t; r++) {
                    double dot = 0;
                    for (int c = 0; c <= r; c++) dot += dP.data[r * t + c] * p.data[r * t + c];
                    for (int c = 0; c <= r; c++) dS.data[r * t + c] = p.data[r * t + c] * (dP.data[r * t + c] - dot) * scale;
                }
                CommonOps_DDRM.mult(dS, block(f.k().output(), s, j, dk), part);
                CommonOps_DDRM.insert(part, dQ, s * t, j * dk);
                CommonOps_DDRM.multTransA(dS, block(f.q().output(), s, j, dk), part);
                CommonOps_DDRM.insert(part, dK, s * t, j * dk);
            }
        }
        Backward qb = query.backwardInput(f.q(), dQ);
        Backward kb = key.backwardInput(f.k(), dK);
        Backward vb = value.backwardInput(f.v(), dV);
        DMatrixRMaj dX = new DMatrixRMaj(rows, width);
        CommonOps_DDRM.add(qb.inputGradient(), kb.inputGradient(), dX);
        CommonOps_DDRM.addEquals(dX, vb.inputGradient());
        return new Bwd(qb, kb, vb, ob, dX);
    }

    @Override
    public List<DMatrixRMaj> backwardWeight(Forward forward, Backward backward) {
        Fwd f = (Fwd) forward;
        Bwd b = (Bwd) backward;
        List<DMatrixRMaj> g = new ArrayList<>(8);
        g.addAll(query.backwardWeight(f.q(), b.q()));
        g.addAll(key.backwardWeight(f.k(), b.k()));
        g.addAll(value.backwardWeight(f.v(), b.v()));
        g.addAll(out.backwardWeight(f.o(), b.o()));
        return g;
    }

    @Override
    public Forward shed(Forward forward) {
        Fwd f = (Fwd) forward;
        return new Fwd(f.q(), f.k(), f.v(), List.of(), f.o());
    }

    @Override
    public Forward restore(Forward forward) {
        Fwd f = (Fwd) forward;
        if (!f.probabilities().isEmpty()) return f;
        recomputations++;
        return new Fwd(f.q(), f.k(), f.v(), probabilities(f.q().output(), f.k().output()), f.o());
    }

    @Override
    public long recomputations() {
        return recomputations;
    }
}
