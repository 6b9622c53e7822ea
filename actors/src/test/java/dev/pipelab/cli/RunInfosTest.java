package dev.pipelab.cli;

import dev.pipelab.model.Recompute;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.PlanFlops;
import dev.pipelab.plan.PlanReport;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.ScenarioLoader;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A run's FLOPs per step as the monitoring consumers see them: hardware FLOPs are model FLOPs plus the recomputed
 * work, never less, for the command lines that once stopped with "hardwareFlopsPerStep must be finite and >=
 * modelFlopsPerStep" because the hardware figure was rebuilt as {@code model · hfu / mfu}.
 */
class RunInfosTest {

    static Stream<Arguments> failingCommandLines() {
        return Stream.of(
                Arguments.of("quickstart.yaml", List.of("parallelism.pipeline=2", "batch.microBatches=9", "parallelism.data=2")),
                Arguments.of("tiny-transformer-real.yaml", List.of("parallelism.data=3")));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("failingCommandLines")
    void hardwareFlopsAreModelFlopsPlusRecomputation(String file, List<String> sets) {
        Plan plan = Planner.plan(ScenarioLoader.load(CliTest.SCENARIOS.resolve(file), sets));
        PlanReport analytic = PlanReport.of(plan, plan.evaluate());

        RunInfo info = RunInfos.of(plan, analytic, "virtual", 1.0);

        PlanFlops flops = PlanFlops.of(plan);
        assertThat(info.modelFlopsPerStep()).isEqualTo(analytic.modelFlopsPerStep()).isEqualTo(flops.modelPerStep());
        assertThat(info.hardwareFlopsPerStep()).isEqualTo(flops.modelPerStep() + flops.recomputePerStep())
                .isGreaterThanOrEqualTo(info.modelFlopsPerStep());
        if (plan.recompute() == Recompute.NONE) {
            assertThat(info.hardwareFlopsPerStep()).as("nothing recomputed").isEqualTo(info.modelFlopsPerStep());
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("failingCommandLines")
    void theCommandLinesRunToTheEndAndWriteTheReport(String file, List<String> sets, @TempDir Path dir) {
        List<String> args = new ArrayList<>(List.of("run", CliTest.scenario(file), "--steps", "2", "--no-dashboard", "--quiet",
                "--out", dir.toString()));
        sets.forEach(s -> args.addAll(List.of("--set", s)));

        CliTest.Result r = CliTest.run(args.toArray(String[]::new));

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(dir.resolve("report.json")).isRegularFile();
    }
}
