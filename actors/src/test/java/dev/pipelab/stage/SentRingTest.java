package dev.pipelab.stage;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.LinkActivity;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SentRingTest {

    @Test
    void theSendersRingReportIsWhatTheRingLinkCarriedForEverySchedule() {
        int checked = 0;
        for (String name : Schedules.NAMES) {
            for (int p : new int[] {2, 4}) {
                int v = name.equals("interleaved") ? 2 : 1;
                int m = 4;
                for (boolean recompute : new boolean[] {false, true}) {
                    for (int d : new int[] {2, 3}) {
                        Schedule s = Schedules.byName(name, p, v, m);
                        if (recompute) s = s.withRecompute();
                        List<StageCost> costs = TestCosts.of(s, d, recompute, TestCosts.SLOW);
                        PureRun run = new PureRun(s, costs, Network.uniform(TestCosts.SLOW), Evaluator.UNBOUNDED, d, 7 + p);
                        assertThat(run.stuck).isEmpty();
                        for (int x = 0; x < d; x++) {
                            for (int r = 0; r < p; r++) {
                                StageState state = run.states[x][r];
                                List<Event.Detail> expected = new ArrayList<>();
                                for (double[] c : run.ringCarried.get(x * p + r)) {
                                    expected.add(new Event.TransferSpan(0, x, r, r, "allreduce", (int) c[0], -1, (long) c[1], c[2],
                                            c[3], c[4]));
                                }
                                assertThat(expected).hasSize(state.ringMessagesPerStep());
                                SentRing ring = new SentRing(x, r, state.ringMessagesPerStep());
                                List<LinkActivity> batches = new ArrayList<>();
                                ring.report(state, e -> batches.add((LinkActivity) e));
                                ring.report(state, e -> batches.add((LinkActivity) e)); // nothing new: no batch
                                assertThat(batches).hasSize(1);
                                assertThat(batches.get(0).details()).as(name + " p" + p + " d" + d + " x" + x + " r" + r)
                                        .isEqualTo(expected);
                                checked += expected.size();
                            }
                        }
                    }
                }
            }
        }
        assertThat(checked).isGreaterThan(1000);
    }
}
