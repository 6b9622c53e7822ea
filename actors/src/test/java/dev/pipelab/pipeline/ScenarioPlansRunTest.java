package dev.pipelab.pipeline;

import dev.pipelab.monitoring.EventLog;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.ScenarioLoader;
import dev.pipelab.schedule.Timeline;
import dev.pipelab.stage.OomPolicy;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The repository's scenarios, planned by the Planner, run in virtual time exactly as the plan evaluates. */
class ScenarioPlansRunTest {

    @RegisterExtension
    static final TestSystems.OneNode node = new TestSystems.OneNode();

    @ParameterizedTest
    @ValueSource(strings = {"quickstart.yaml", "1f1b-4x8.yaml", "gpipe-4x8.yaml", "interleaved-4x8.yaml", "llama2-70b-article.yaml",
            "article-80-stages.yaml", "zb-auto.yaml"})
    void aPlannedScenarioRunsAsItEvaluates(String file) {
        Plan plan = Planner.plan(ScenarioLoader.load(Path.of("..", "scenarios", file)));
        Timeline t = plan.evaluate();
        RunResult r = Emulator.run(node.system(), RunSpec.of(plan), RunOptions.virtual(2, new EventLog()).withOom(OomPolicy.WARN))
                .orThrow();
        ExactnessMatrixTest.assertSameAsEvaluator(r, 1, t, plan.data());
        assertThat(r.steps()).hasSize(2);
    }
}
