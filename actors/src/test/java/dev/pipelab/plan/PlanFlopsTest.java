package dev.pipelab.plan;

import dev.pipelab.model.Recompute;
import dev.pipelab.scenario.ScenarioLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A plan's FLOPs per step: hardware FLOPs are model FLOPs plus what recomputation runs again, never less. */
class PlanFlopsTest {

    static Plan plan(String file, List<String> sets) {
        return Planner.plan(ScenarioLoader.load(Path.of("..", "scenarios", file), sets));
    }

    /** The command line whose hardware FLOPs, rebuilt as model · hfu / mfu, fell one unit in the last place short. */
    @Test
    void withoutRecomputationHardwareFlopsAreExactlyModelFlops() {
        PlanFlops flops = PlanFlops.of(plan("tiny-transformer-real.yaml", List.of("parallelism.data=3")));

        assertThat(flops.recomputePerStep()).isZero();
        assertThat(flops.hardwarePerStep()).isEqualTo(flops.modelPerStep()).isEqualTo(2.38288896E8);
    }

    @ParameterizedTest
    @EnumSource(Recompute.class)
    void hardwareFlopsAreModelFlopsPlusRecomputationAndTheReportAgrees(Recompute policy) {
        Plan plan = plan("quickstart.yaml", List.of("parallelism.pipeline=2", "batch.microBatches=9", "parallelism.data=2",
                "training.recompute=" + policy.name().toLowerCase()));
        PlanFlops flops = PlanFlops.of(plan);
        PlanReport report = PlanReport.of(plan, plan.evaluate());

        assertThat(flops.hardwarePerStep()).isEqualTo(flops.modelPerStep() + flops.recomputePerStep())
                .isGreaterThanOrEqualTo(flops.modelPerStep());
        assertThat(flops.recomputePerStep() > 0).as("recomputes").isEqualTo(policy != Recompute.NONE);
        assertThat(report.modelFlopsPerStep()).isEqualTo(flops.modelPerStep());
        double peak = plan.device().peakFlopsPerSecond() * plan.devices() * report.stepTimeSeconds();
        assertThat(report.mfu()).isEqualTo(flops.modelPerStep() / peak);
        assertThat(report.hfu()).isEqualTo(flops.hardwarePerStep() / peak);
    }

    @Test
    void termsMustBeFiniteAndNonNegative() {
        assertThatThrownBy(() -> new PlanFlops(1, -1)).hasMessage("recomputePerStep must be a finite number >= 0, got -1.0");
        assertThatThrownBy(() -> new PlanFlops(Double.NaN, 0)).hasMessage("modelPerStep must be a finite number >= 0, got NaN");
        assertThatThrownBy(() -> new PlanFlops(1, Double.POSITIVE_INFINITY))
                .hasMessage("recomputePerStep must be a finite number >= 0, got Infinity");
    }
}
