package dev.pipelab.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PartitionTest {

    @Test
    void uniformGivesTheRemainderToTheFirstStages() {
        assertThat(Partition.uniform(80, 8).layersPerStage()).containsExactly(10, 10, 10, 10, 10, 10, 10, 10);
        assertThat(Partition.uniform(10, 4).layersPerStage()).containsExactly(3, 3, 2, 2);
        assertThat(Partition.uniform(126, 16).totalLayers()).isEqualTo(126);
        assertThat(Partition.uniform(5, 5).layersPerStage()).containsExactly(1, 1, 1, 1, 1);
    }

    @Test
    void uniformRejectsMoreStagesThanLayers() {
        assertThatThrownBy(() -> Partition.uniform(3, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cannot split 3 layers into 4 stages of at least one layer");
        assertThatThrownBy(() -> Partition.uniform(3, 0)).hasMessage("stages must be >= 1, got 0");
    }

    @Test
    void firstLayerIsThePrefixSum() {
        Partition p = Partition.uniform(10, 4);
        assertThat(List.of(p.firstLayer(0), p.firstLayer(1), p.firstLayer(2), p.firstLayer(3)))
                .containsExactly(0, 3, 6, 8);
        assertThat(p.layersOf(2)).isEqualTo(2);
        assertThat(p.stages()).isEqualTo(4);
        assertThatThrownBy(() -> p.firstLayer(4)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void explicitChecksSumAndEmptyStages() {
        assertThat(Partition.explicit(List.of(9, 10, 10, 11), 40).layersPerStage()).containsExactly(9, 10, 10, 11);
        assertThatThrownBy(() -> Partition.explicit(List.of(10, 10, 10), 40))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("partition [10, 10, 10] sums to 30 layers, but the model has 40");
        assertThatThrownBy(() -> Partition.explicit(List.of(20, 0, 20), 40))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("partition [20, 0, 20]: stage 1 must hold at least 1 layer, got 0");
        assertThatThrownBy(() -> Partition.explicit(List.of(), 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void isDeeplyImmutable() {
        List<Integer> source = new ArrayList<>(List.of(2, 2));
        Partition p = new Partition(source);
        source.set(0, 7);
        assertThat(p.layersPerStage()).containsExactly(2, 2);
        assertThatThrownBy(() -> p.layersPerStage().set(0, 1)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void balancedMovesLayersOffAnExpensiveLastStage() {
        // 80 layers on 8 stages, the output layer costs 5 layers: the last stage takes fewer layers.
        Partition p = Partition.balanced(80, 8, 1.0, 0.0, 5.0);
        assertThat(p.totalLayers()).isEqualTo(80);
        assertThat(p.layersPerStage().get(7)).isLessThan(10);
        assertThat(maxCost(p.layersPerStage(), 1, 0, 5)).isEqualTo(11.0);
        assertThat(Partition.balanced(7, 1, 1.0, 2.0, 3.0).layersPerStage()).containsExactly(7);
        assertThat(Partition.balanced(7, 2, 1.0, 0.0, 3.0).layersPerStage()).containsExactly(5, 2);
    }

    /** Exhaustive over layers in [1, 130] and stages in [1, 32], skipping stages > layers: 3664 cases. */
    @Test
    void balancedWithoutExtrasIsUniform() {
        int cases = 0;
        for (int layers = 1; layers <= 130; layers++) {
            for (int stages = 1; stages <= 32; stages++) {
                if (stages > layers) continue;
                assertThat(Partition.balanced(layers, stages, 1.5, 0, 0)).as("layers=%d stages=%d", layers, stages)
                        .isEqualTo(Partition.uniform(layers, stages));
                cases++;
            }
        }
        assertThat(cases).isEqualTo(32 * 130 - 32 * 31 / 2);
    }

    /**
     * Exactness: the minimal maximum stage cost equals a brute force over every contiguous split. Exhaustive over
     * layers in [1, 12], stages in [1, 5], layerCost in [1, 4], first and last extra cost in [0, 12], skipping
     * stages > layers: 33800 cases.
     */
    @Test
    void balancedIsOptimal() {
        int cases = 0;
        for (int layers = 1; layers <= 12; layers++) {
            for (int stages = 1; stages <= 5; stages++) {
                if (stages > layers) continue;
                for (int layerCost = 1; layerCost <= 4; layerCost++) {
                    for (int first = 0; first <= 12; first++) {
                        for (int last = 0; last <= 12; last++) {
                            String in = String.format("layers=%d stages=%d layerCost=%d first=%d last=%d",
                                    layers, stages, layerCost, first, last);
                            Partition p = Partition.balanced(layers, stages, layerCost, first, last);
                            assertThat(p.stages()).as(in).isEqualTo(stages);
                            assertThat(p.totalLayers()).as(in).isEqualTo(layers);
                            assertThat(maxCost(p.layersPerStage(), layerCost, first, last)).as(in)
                                    .isEqualTo(bruteForceMinMax(layers, stages, layerCost, first, last));
                            cases++;
                        }
                    }
                }
            }
        }
        assertThat(cases).isEqualTo((12 * 5 - (1 + 2 + 3 + 4)) * 4 * 13 * 13);
    }

    private static double bruteForceMinMax(int layers, int stages, double c, double first, double last) {
        double[] best = {Double.POSITIVE_INFINITY};
        enumerate(new int[stages], 0, layers, c, first, last, best);
        return best[0];
    }

    private static void enumerate(int[] sizes, int stage, int remaining, double c, double first, double last,
                                  double[] best) {
        if (stage == sizes.length - 1) {
            if (remaining < 1) return;
            sizes[stage] = remaining;
            List<Integer> split = Arrays.stream(sizes).boxed().toList();
            best[0] = Math.min(best[0], maxCost(split, c, first, last));
            return;
        }
        for (int n = 1; n <= remaining - (sizes.length - 1 - stage); n++) {
            sizes[stage] = n;
            enumerate(sizes, stage + 1, remaining - n, c, first, last, best);
        }
    }

    private static double maxCost(List<Integer> split, double c, double first, double last) {
        double max = 0;
        for (int i = 0; i < split.size(); i++) {
            double cost = split.get(i) * c + (i == 0 ? first : 0) + (i == split.size() - 1 ? last : 0);
            max = Math.max(max, cost);
        }
        return max;
    }
}
