package dev.pipelab.pipeline;

import dev.pipelab.monitoring.EventLog;
import dev.pipelab.monitoring.synthetic.Recorded;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.schedule.Timeline;
import dev.pipelab.stage.TestCosts;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class EmulatorSmokeTest {

    @Test
    void anEmbeddedRunReproducesTheEvaluator() {
        Schedule s = Schedules.oneFOneB(2, 4);
        List<StageCost> costs = TestCosts.of(s, 2, false, TestCosts.SLOW);
        RunSpec spec = new RunSpec(s, costs, Network.uniform(TestCosts.SLOW), 2, 2, Long.MAX_VALUE);
        Timeline t = Evaluator.evaluate(s, costs, spec.network(), 2);
        EventLog log = new EventLog();
        RunResult r = Emulator.run(spec, RunOptions.virtual(2, log), TestSystems.config()).orThrow();
        assertThat(r.steps()).hasSize(2);
        assertThat(r.stepSeconds(0)).isEqualTo(t.stepTimeSeconds());
        assertThat(r.stepSeconds(1)).isEqualTo(t.stepTimeSeconds());
        assertThat(r.actionStart(1, 1, 1, 3)).isEqualTo(t.start(1, 3));
        assertThat(log.size()).isEqualTo(6); // each step started, ended and was committed (the ledger)
        assertThat(Recorded.stages(log.events())).hasSize(2 * 2 * 2); // steps x replicas x ranks
    }
}
