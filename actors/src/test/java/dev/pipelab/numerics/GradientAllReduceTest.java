package dev.pipelab.numerics;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class GradientAllReduceTest {

    private static List<double[]> vectors(int d, int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<double[]> out = new ArrayList<>();
        for (int r = 0; r < d; r++) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = (rng.nextDouble() - 0.5) * StrictMath.pow(10, rng.nextInt(-6, 7));
            out.add(v);
        }
        return out;
    }

    private static double[] leftFold(List<double[]> vs) {
        double[] acc = vs.get(0).clone();
        for (int r = 1; r < vs.size(); r++) for (int i = 0; i < acc.length; i++) acc[i] += vs.get(r)[i];
        return acc;
    }

    private static void assertSameBits(double[] a, double[] b) {
        assertThat(a.length).isEqualTo(b.length);
        for (int i = 0; i < a.length; i++) {
            assertThat(Double.doubleToRawLongBits(a[i])).as("element " + i + ": " + a[i] + " vs " + b[i]).isEqualTo(Double.doubleToRawLongBits(b[i]));
        }
    }

    @ParameterizedTest(name = "d={0} n={1}")
    @CsvSource({"1,5", "2,7", "3,10", "4,3", "4,101", "5,64"})
    void everyRankEndsWithTheSameSumAfterTwoDMinusOneSteps(int d, int n) {
        List<double[]> vs = vectors(d, n, 31L * d + n);
        double[] fold = leftFold(vs);
        for (GradientAllReduce.Result res : List.of(GradientAllReduce.ring(vs), GradientAllReduce.canonical(vs))) {
            assertThat(res.steps()).isEqualTo(2 * (d - 1));
            for (int r = 0; r < d; r++) assertSameBits(res.perRank()[r], res.perRank()[0]);
            for (int i = 0; i < n; i++) {
                double mag = 0;
                for (double[] v : vs) mag += Math.abs(v[i]);
                assertThat(res.perRank()[0][i]).isCloseTo(fold[i], within(4 * Math.ulp(mag) * d));
            }
        }
        assertSameBits(GradientAllReduce.canonical(vs).perRank()[0], fold);
        // the ring moves d−1 chunks per link and phase; the canonical relay pays d(d−1)/2 in the reduce-scatter
        assertThat(GradientAllReduce.ring(vs).chunkTransfers()).isEqualTo(2L * d * (d - 1));
        assertThat(GradientAllReduce.canonical(vs).chunkTransfers()).isEqualTo((long) d * d * (d - 1) / 2 + (long) d * (d - 1));
    }

    @Test
    void theRingIsExactForTwoReplicasBecauseAdditionIsCommutative() {
        List<double[]> vs = vectors(2, 1000, 5);
        assertSameBits(GradientAllReduce.ring(vs).perRank()[1], leftFold(vs));
    }

    @Test
    void theRingsRotatedOrderDiffersFromTheCanonicalFoldForFourReplicas() {
        // one element per chunk; replica r contributes x[r] to every element: chunk c sums x[c] + x[c+1] + ...
        double[] x = {1e16, 1.0, -1e16, 1.0};
        List<double[]> vs = new ArrayList<>();
        for (double v : x) vs.add(new double[] {v, v, v, v});
        double[] ring = GradientAllReduce.ring(vs).perRank()[0];
        double[] canonical = GradientAllReduce.canonical(vs).perRank()[0];
        // canonical: ((1e16 + 1) − 1e16) + 1 = 1 in every element (1e16 + 1 rounds to 1e16)
        assertSameBits(canonical, new double[] {1, 1, 1, 1});
        // chunk 0 starts at replica 0 and is canonical; chunk 1 sums ((1 − 1e16) + 1) + 1e16 = 0
        assertThat(ring[0]).isEqualTo(1.0);
        assertThat(ring[1]).isEqualTo(0.0);
    }

    @Test
    void mismatchedLengthsAreRejected() {
        assertThatThrownBy(() -> GradientAllReduce.ring(List.of(new double[3], new double[4])))
                .hasMessageContaining("replica 1 has 4 gradient elements, replica 0 has 3");
    }
}
