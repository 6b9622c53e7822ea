package dev.pipelab.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
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

    @Property(tries = 300)
    void balancedWithoutExtrasIsUniform(@ForAll @IntRange(min = 1, max = 130) int layers,
                                        @ForAll @IntRange(min = 1, max = 32) int stages) {
        Assume.that(stages <= layers);
        assertThat(Partition.balanced(layers, stages, 1.5, 0, 0)).isEqualTo(Partition.uniform(layers, stages));
    }

    /** Exactness: the minimal maximum stage cost equals a brute force over every contiguous split. */
    @Property(tries = 300)
    void balancedIsOptimal(@ForAll @IntRange(min = 1, max = 12) int layers,
                           @ForAll @IntRange(min = 1, max = 5) int stages,
                           @ForAll @IntRange(min = 1, max = 4) int layerCost,
                           @ForAll @IntRange(min = 0, max = 12) int first,
                           @ForAll @IntRange(min = 0, max = 12) int last) {
        Assume.that(stages <= layers);
        Partition p = Partition.balanced(layers, stages, layerCost, first, last);
        assertThat(p.stages()).isEqualTo(stages);
        assertThat(p.totalLayers()).isEqualTo(layers);
        assertThat(maxCost(p.layersPerStage(), layerCost, first, last))
                .isEqualTo(bruteForceMinMax(layers, stages, layerCost, first, last));
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
