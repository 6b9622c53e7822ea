package dev.pipelab.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipelab.scenario.Scenario;
import dev.pipelab.scenario.ScenarioLoader;
import dev.pipelab.schedule.StageCost;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

class CalibrationTest {

    private static final String SCENARIO = """
            name: calibration
            model: { preset: gpt-7.5b }
            hardware: { device: a100-80gb, efficiency: 0.5 }
            parallelism: { pipeline: 4, data: 2, tensor: 2 }
            batch: { microBatchSize: 2, microBatches: 8 }
            training: { schedule: 1f1b, recompute: selective }
            """;

    private static Scenario scenario() {
        return ScenarioLoader.parse(SCENARIO, "calibration.yaml", List.of());
    }

    /** A step measured at efficiency 0.37 gives back 0.37: the fit inverts the model. */
    @Test
    void aStepTimeGivesBackItsEfficiency() {
        double measured = Planner.plan(Calibration.withEfficiency(scenario(), 0.37)).evaluate().stepTimeSeconds();
        Calibration.Fit fit = Calibration.toStep(scenario(), measured).orElseThrow();
        assertThat(fit.efficiency()).isCloseTo(0.37, within(1e-9));
        assertThat(fit.points()).singleElement().satisfies(p -> assertThat(p.relativeError()).isCloseTo(0, within(1e-9)));
    }

    /** A step faster than the roofline allows at efficiency 1, or slower than at the floor, has no fit. */
    @Test
    void anImpossibleStepHasNoFit() {
        double atOne = Planner.plan(Calibration.withEfficiency(scenario(), 1.0)).evaluate().stepTimeSeconds();
        assertThat(Calibration.toStep(scenario(), atOne * 0.9)).isEmpty();
        assertThat(Calibration.toStep(scenario(), atOne * 1e4)).isEmpty();
    }

    /**
     * Per-phase times (the scenario's costs keys) made by the model at 0.42 fit 0.42 with no residual; scaling the
     * forward alone leaves a residual that the fit reports.
     */
    @Test
    void perPhaseTimesFitInTheLeastSquaresSense() {
        List<StageCost> at42 = Planner.plan(Calibration.withEfficiency(scenario(), 0.42)).stageCosts();
        Scenario profiled = withCosts(scenario(), at42, 1.0);
        Calibration.Fit fit = Calibration.toPhases(profiled).orElseThrow();
        assertThat(fit.efficiency()).isCloseTo(0.42, within(1e-12));
        assertThat(fit.rmsRelativeError()).isCloseTo(0, within(1e-12));
        assertThat(fit.points()).hasSize(4 * 4); // F, B, W and recompute of each of the 4 stages

        Calibration.Fit skewed = Calibration.toPhases(withCosts(scenario(), at42, 1.2)).orElseThrow();
        assertThat(skewed.efficiency()).isLessThan(0.42);
        assertThat(skewed.rmsRelativeError()).isGreaterThan(0.01);
        assertThat(Calibration.toPhases(scenario())).isEmpty();
    }

    private static Scenario withCosts(Scenario s, List<StageCost> costs, double forwardScale) {
        Scenario.Costs c = new Scenario.Costs(
                Optional.of(costs.stream().map(x -> x.forwardSeconds() * forwardScale).toList()),
                Optional.of(costs.stream().map(StageCost::backwardInputSeconds).toList()),
                Optional.of(costs.stream().map(StageCost::backwardWeightSeconds).toList()),
                Optional.of(costs.stream().map(StageCost::recomputeSeconds).toList()), Optional.empty(), Optional.empty(),
                Optional.empty());
        return new Scenario(s.name(), s.model(), s.hardware(), s.parallelism(), s.batch(), s.training(), Optional.of(c),
                s.seed(), s.real(), s.telemetry(), s.cluster(), s.faults(), s.recovery(), s.randomFaults());
    }
}
