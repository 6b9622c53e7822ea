package dev.pipelab.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipelab.stage.TestCosts;
import java.util.List;
import org.junit.jupiter.api.Test;

class PeakLiveTest {

    /** Static bytes plus what is live at the peak is the peak, for every rank of every schedule. */
    @Test
    void whatIsLiveAtThePeakAddsUpToThePeak() {
        List<Schedule> schedules = List.of(Schedules.gpipe(4, 8), Schedules.oneFOneB(4, 8), Schedules.interleaved(4, 2, 8),
                Schedules.zbH1(4, 8), Schedules.byName("zb-v", 4, 2, 8), Schedules.oneFOneB(4, 8).withRecompute(),
                Schedules.interleaved(4, 2, 8).withRecompute());
        for (Schedule s : schedules) {
            List<StageCost> costs = TestCosts.of(s, 1, true, TestCosts.SLOW);
            long[] peaks = Evaluator.peakMemory(s, costs);
            for (int r = 0; r < s.ranks(); r++) {
                CompiledSchedule.PeakLive live = Evaluator.peakLive(s, costs, r);
                long sum = 0;
                for (int k = 0; k < s.stages(); k++) {
                    if (s.rankOf(k) == r) sum += costs.get(k).staticBytes();
                    sum += live.stashes()[k] * costs.get(k).stashBytes() + live.recomputes()[k] * costs.get(k).recomputeBytes();
                }
                assertThat(sum).as("%s rank %d", s.name(), r).isEqualTo(peaks[r]).isEqualTo(live.peakBytes());
            }
        }
    }

    /** 1F1B, p = 4: rank 0 peaks holding 4 micro-batches, rank 3 one; GPipe's every rank all 8. */
    @Test
    void inFlightCountsOfTheTextbookSchedules() {
        Schedule ofob = Schedules.oneFOneB(4, 8);
        List<StageCost> costs = TestCosts.of(ofob, 1, false, TestCosts.SLOW);
        assertThat(Evaluator.peakLive(ofob, costs, 0).stashes()).containsExactly(4, 0, 0, 0);
        assertThat(Evaluator.peakLive(ofob, costs, 3).stashes()).containsExactly(0, 0, 0, 1);
        Schedule gpipe = Schedules.gpipe(4, 8);
        assertThat(Evaluator.peakLive(gpipe, TestCosts.of(gpipe, 1, false, TestCosts.SLOW), 2).stashes()).containsExactly(0, 0, 8, 0);
    }
}
