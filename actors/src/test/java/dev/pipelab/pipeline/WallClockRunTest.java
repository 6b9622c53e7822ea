package dev.pipelab.pipeline;

import dev.pipelab.monitoring.EventLog;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.synthetic.Recorded;
import dev.pipelab.schedule.Action;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.schedule.Timeline;
import dev.pipelab.stage.TestCosts;
import org.junit.jupiter.api.Test;

import java.util.Comparator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A wall-clock run (timers, the present enters every start) completes with the schedule's action order. */
class WallClockRunTest {

    @Test
    void aFastWallClockRunCompletesInTheSchedulesOrderAndNeverBeforeTheVirtualTimes() {
        Schedule s = Schedules.oneFOneB(2, 4);
        List<StageCost> costs = TestCosts.of(s, 2, false, TestCosts.SLOW);
        RunSpec spec = new RunSpec(s, costs, Network.uniform(TestCosts.SLOW), 2, 2, Long.MAX_VALUE);
        EventLog log = new EventLog();
        RunResult r = Emulator.run(spec, RunOptions.virtual(1, log).withWallClock(200.0), TestSystems.config()).orThrow();
        Timeline t = Evaluator.evaluate(s, costs, spec.network(), 2);
        for (int x = 0; x < 2; x++) {
            for (int rank = 0; rank < 2; rank++) {
                final int fx = x;
                final int fr = rank;
                List<StageRecord.Action> spans = Recorded.stages(log.events()).stream().filter(rec -> rec.replica() == fx && rec.rank() == fr)
                        .flatMap(rec -> rec.actions().stream()).filter(a -> a.phase() != Phase.OPT)
                        .sorted(Comparator.comparingDouble(StageRecord.Action::startSeconds)).toList();
                assertThat(spans.stream().map(a -> new Action(a.stage(), Action.Kind.valueOf(a.phase().name()), a.microBatch())).toList())
                        .isEqualTo(s.actions(rank));
                for (int j = 0; j < s.actions(rank).size(); j++) {
                    // the present enters every max(), so nothing starts before its virtual time
                    assertThat(r.actionStart(0, x, rank, j)).isGreaterThanOrEqualTo(t.start(rank, j));
                }
            }
        }
        assertThat(r.stepSeconds(0)).isGreaterThanOrEqualTo(t.stepTimeSeconds());
    }
}
