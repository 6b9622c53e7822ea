package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Finite-difference checks (central differences) of every layer's dX (B) and dW (W) and of both losses: the
 * probe is the scalar {@code L = Σ dY ⊙ forward(x)} for a random dY, whose exact gradients are what B and W return.
 */
class GradientCheckTest {

    private static final double H = 1e-6;
    private static final double TOLERANCE = 1e-6;

    private final SplittableRandom rng = new SplittableRandom(7);

    private DMatrixRMaj random(int rows, int cols) {
        return Tensors.uniform(rows, cols, 1.0, rng);
    }

    private static double probe(Layer layer, DMatrixRMaj x, DMatrixRMaj dY) {
        DMatrixRMaj y = layer.forward(x).output();
        double s = 0;
        for (int i = 0; i < y.getNumElements(); i++) s += y.data[i] * dY.data[i];
        return s;
    }

    /** Checks dX (unless the input is token ids) and every dW of {@code layer} at x. */
    private void check(Layer layer, DMatrixRMaj x, boolean differentiableInput) {
        Layer.Forward f = layer.forward(x);
        DMatrixRMaj dY = random(f.output().numRows, f.output().numCols);
        Layer.Backward b = layer.backwardInput(f, dY);
        List<DMatrixRMaj> dW = layer.backwardWeight(f, b);
        assertThat(dW).hasSameSizeAs(layer.params());
        if (differentiableInput) {
            DMatrixRMaj dX = b.inputGradient();
            assertThat(dX.numRows).isEqualTo(x.numRows);
            assertThat(dX.numCols).isEqualTo(x.numCols);
            for (int i = 0; i < x.getNumElements(); i++) {
                double keep = x.data[i];
                x.data[i] = keep + H;
                double up = probe(layer, x, dY);
                x.data[i] = keep - H;
                double down = probe(layer, x, dY);
                x.data[i] = keep;
                double numeric = (up - down) / (2 * H);
                assertThat(dX.data[i]).as(layer.name() + " dX[" + i + "]").isCloseTo(numeric, within(TOLERANCE * Math.max(1, Math.abs(numeric))));
            }
        }
        for (int k = 0; k < layer.params().size(); k++) {
            Param p = layer.params().get(k);
            assertThat(dW.get(k).getNumElements()).isEqualTo(p.value().getNumElements());
            for (int i = 0; i < p.value().getNumElements(); i++) {
                double keep = p.value().data[i];
                p.value().data[i] = keep + H;
                double up = probe(layer, x, dY);
                p.value().data[i] = keep - H;
                double down = probe(layer, x, dY);
                p.value().data[i] = keep;
                double numeric = (up - down) / (2 * H);
                assertThat(dW.get(k).data[i]).as(p.name() + "[" + i + "]").isCloseTo(numeric, within(TOLERANCE * Math.max(1, Math.abs(numeric))));
            }
        }
    }

    @Test
    void linear() {
        check(new Linear("lin", 5, 3, rng), random(4, 5), true);
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void activation(Activation a) {
        check(new ActivationLayer("act", a), random(4, 6), true);
    }

    @Test
    void layerNormWithNonTrivialGainAndShift() {
        LayerNorm ln = new LayerNorm("ln", 6);
        ln.params().get(0).value().setTo(random(1, 6));
        ln.params().get(1).value().setTo(random(1, 6));
        check(ln, random(4, 6), true);
    }

    @Test
    void embeddingWeights() {
        DMatrixRMaj ids = new DMatrixRMaj(new double[][] {{3}, {1}, {3}, {0}, {2}, {3}});
        check(new Embedding("emb", 5, 3, 4, rng), ids, false);
    }

    @Test
    void causalMultiHeadAttention() {
        check(new Attention("attn", 6, 2, 4, rng), random(2 * 4, 6), true);
    }

    @Test
    void causalAttentionIgnoresLaterPositions() {
        Attention attn = new Attention("attn", 4, 2, 3, rng);
        DMatrixRMaj x = random(3, 4);
        DMatrixRMaj before = attn.forward(x).output().copy();
        x.data[2 * 4 + 1] += 0.5; // change only the last position
        DMatrixRMaj after = attn.forward(x).output();
        for (int i = 0; i < 2 * 4; i++) assertThat(after.data[i]).isEqualTo(before.data[i]);
        assertThat(after.data[2 * 4 + 1]).isNotEqualTo(before.data[2 * 4 + 1]);
    }

    @Test
    void transformerBlocksEmbeddingAndHeadOfTheModel() {
        RealModel model = RealModel.transformer(7, 3, 4, 2, 2, Activation.GELU, true, 11);
        List<Layer> units = model.units();
        DMatrixRMaj ids = new DMatrixRMaj(new double[][] {{1}, {6}, {0}, {2}, {2}, {5}});
        check(units.get(0), ids, false);
        for (int i = 1; i < units.size(); i++) check(units.get(i), random(6, 4), true);
    }

    @Test
    void mlpUnitsWithLayerNorm() {
        RealModel model = RealModel.mlp(3, 5, 3, 2, Activation.TANH, true, Loss.MSE, 5);
        List<Layer> units = model.units();
        check(units.get(0), random(4, 3), true);
        check(units.get(1), random(4, 5), true);
        check(units.get(2), random(4, 5), true);
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void lossGradientIsTheScaledDerivativeOfTheMeanLoss(Loss loss) {
        int n = 4;
        int c = 3;
        DMatrixRMaj z = random(n, c);
        DMatrixRMaj t = loss == Loss.MSE ? random(n, c) : new DMatrixRMaj(new double[][] {{0}, {2}, {1}, {2}});
        int m = 3;
        int d = 2;
        Loss.Result r = loss.evaluate(z, t, m, d);
        for (int i = 0; i < z.getNumElements(); i++) {
            double keep = z.data[i];
            z.data[i] = keep + H;
            double up = loss.evaluate(z, t, m, d).loss();
            z.data[i] = keep - H;
            double down = loss.evaluate(z, t, m, d).loss();
            z.data[i] = keep;
            // the seeded gradient is d(mean loss)/dz divided by m·d
            double numeric = (up - down) / (2 * H) / (m * d);
            assertThat(r.outputGradient().data[i]).as("dz[" + i + "]").isCloseTo(numeric, within(1e-8));
        }
    }

    @Test
    void crossEntropyOfUniformLogitsIsLnClasses() {
        Loss.Result r = Loss.CROSS_ENTROPY.evaluate(new DMatrixRMaj(2, 4), new DMatrixRMaj(new double[][] {{0}, {3}}), 1, 1);
        assertThat(r.loss()).isCloseTo(Math.log(4), within(1e-15));
    }
}
