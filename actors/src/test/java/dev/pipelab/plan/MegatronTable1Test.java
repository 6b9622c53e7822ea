package dev.pipelab.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipelab.model.ModelSpec;
import dev.pipelab.model.Recompute;
import dev.pipelab.model.StepFlops;
import org.junit.jupiter.api.Test;

import java.util.List;

class MegatronTable1Test {

    /**
     * The rows as published (Narayanan et al. 2021, Table 1: heads, hidden, layers, t, p, n, B) and as run
     * (Megatron-LM examples/sc21/run_table_1.sh: MBS, layers per virtual stage): n = t·p·d, B = d·b·m, and the
     * interleaved schedule's m is a multiple of p.
     */
    @Test
    void theRowsAreThePublishedConfigurations() {
        List<int[]> shapes = List.of(new int[] {24, 2304, 24}, new int[] {32, 3072, 30}, new int[] {32, 4096, 36},
                new int[] {48, 6144, 40}, new int[] {64, 8192, 48}, new int[] {80, 10240, 60}, new int[] {96, 12288, 80},
                new int[] {128, 16384, 96}, new int[] {128, 20480, 105}, new int[] {160, 25600, 128});
        assertThat(MegatronTable1.ROWS).hasSize(10);
        for (int i = 0; i < 10; i++) {
            MegatronTable1.Row row = MegatronTable1.ROWS.get(i);
            ModelSpec m = row.model();
            assertThat(new int[] {m.heads(), m.hidden(), m.layers()}).as(row.preset()).containsExactly(shapes.get(i));
            assertThat(m.seqLength()).isEqualTo(2048);
            assertThat(m.vocab()).isEqualTo(51200);
            assertThat(row.tensor() * row.pipeline() * row.data()).as(row.preset()).isEqualTo(row.gpus());
            assertThat((long) row.data() * row.microBatchSize() * row.microBatches()).as(row.preset()).isEqualTo(row.batch());
            assertThat(m.layers() % (row.pipeline() * row.virtualStages())).isZero();
            if (row.virtualStages() > 1) assertThat(row.microBatches() % row.pipeline()).isZero();
        }
        assertThat(MegatronTable1.ROWS.stream().mapToDouble(MegatronTable1.Row::publishedTflops).toArray())
                .containsExactly(137, 138, 142, 135, 138, 140, 148, 155, 163, 163);
    }

    /** The paper's eq. 3, 96·B·s·l·h²·(1 + s/(6h) + V/(16lh)), is StepFlops' hardware FLOPs with full recomputation. */
    @Test
    void eq3IsTheRecomputeInclusiveCount() {
        for (MegatronTable1.Row row : MegatronTable1.ROWS) {
            double steps = StepFlops.hardwareFlops(row.model(), row.batch(), Recompute.FULL);
            assertThat(MegatronTable1.eq3Flops(row)).as(row.preset()).isCloseTo(steps, within(steps * 1e-12));
        }
    }

    /**
     * The rows run with Megatron-LM's scatter/gather of pipeline messages, as the paper's runs did (on by default;
     * run_table_1.sh does not pass --no-scatter-gather-tensors-in-pipeline): it shortens every row with p > 1 and
     * t > 1, and leaves the others (no pipeline message, or nothing to split) as they were.
     */
    @Test
    void theRowsScatterAndGatherTheirPipelineMessages() {
        for (MegatronTable1.Row row : MegatronTable1.ROWS) {
            assertThat(MegatronTable1.scenario(row, 0.7, MegatronTable1.SCATTER_GATHER).hardware().p2pScatterGather())
                    .as(row.preset()).isTrue();
        }
        MegatronTable1.Row row39b = MegatronTable1.ROWS.get(4);
        MegatronTable1.Row row18b = MegatronTable1.ROWS.get(3);
        assertThat(step(row39b, true)).isLessThan(step(row39b, false));
        assertThat(step(row18b, true)).isEqualTo(step(row18b, false));
    }

    private static double step(MegatronTable1.Row row, boolean scatterGather) {
        return Planner.plan(MegatronTable1.scenario(row, 0.7, scatterGather), false).evaluate().stepTimeSeconds();
    }

    /**
     * The bar: one efficiency fitted on the 1.7B row alone, then median |error| <= 5% and max <= 10% over the
     * other nine rows. The calibration row itself is met to the bisection's precision.
     */
    @Test
    void oneEfficiencyPredictsTheOtherNineRows() {
        MegatronTable1.Result r = MegatronTable1.run();
        assertThat(r.efficiency()).isBetween(0.0, 1.0);
        assertThat(r.predictions().get(0).relativeError()).isCloseTo(0, within(1e-6));
        assertThat(r.validationErrors()).hasSize(9);
        assertThat(r.medianAbsError()).isLessThanOrEqualTo(0.05);
        assertThat(r.maxAbsError()).isLessThanOrEqualTo(0.10);
    }
}
