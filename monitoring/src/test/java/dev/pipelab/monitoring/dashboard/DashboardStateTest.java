package dev.pipelab.monitoring.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.RankStats;
import dev.pipelab.monitoring.RunAggregate;
import dev.pipelab.monitoring.synthetic.SyntheticRun;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class DashboardStateTest {

    @Test
    void twoThousandFortyEightDevicesGiveSixteenRowsAndOneReplicasGantt() {
        SyntheticRun run = new SyntheticRun(16, 128, 8, 0.01, 0.3, 8); // 2,048 devices
        DashboardState state = new DashboardState(run.info());
        List<Event> events = run.steps(4);
        events.forEach(state::emit);

        JsonNode st = state.snapshot(77);
        assertThat(st.get("run").get("devices").asInt()).isEqualTo(2048);
        assertThat(st.get("ranks")).hasSize(16);
        assertThat(st.get("gantt").get("replica").asInt()).isEqualTo(77);
        JsonNode steps = st.get("gantt").get("steps");
        assertThat(steps).hasSize(DashboardState.GANTT_STEPS);
        assertThat(steps.get(0).get("step").asInt()).isEqualTo(1);
        // replica 77 only: F and B per micro-batch plus the optimizer, per rank and step shown
        assertThat(st.get("gantt").get("segments")).hasSize(DashboardState.GANTT_STEPS * 16 * (8 + 8 + 1));
        assertThat(state.snapshotJson(77).length()).isLessThan(300_000);

        // utilisation agrees with the existing aggregation: mean over replicas of busy / step time of the last step
        RunAggregate aggregate = RunAggregate.of(run.info(), events);
        List<RankStats> last = aggregate.ranks(3);
        for (int rank = 0; rank < 16; rank++) {
            double mean = 0;
            for (int replica = 0; replica < 128; replica++) mean += last.get(replica * 16 + rank).busyFraction() / 128;
            assertThat(st.get("ranks").get(rank).get("utilisation").asDouble()).isCloseTo(mean, within(1e-9));
        }
        assertThat(st.get("steps")).hasSize(4);
        assertThat(st.get("steps").get(3).get("bubble").asDouble())
                .isCloseTo(aggregate.stepStats().get(3).bubbleFraction(), within(1e-9));
    }

    @Test
    void stepListenersHearEveryStepEnd() {
        SyntheticRun run = new SyntheticRun(2, 1, 2, 1, 0, 1);
        DashboardState state = new DashboardState(run.info());
        java.util.List<Integer> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
        state.onStepEnded(heard::add);
        run.steps(3).forEach(state::emit);
        assertThat(heard).containsExactly(0, 1, 2);
        assertThat(state.snapshot(0).get("status").asText()).isEqualTo("running");
        state.finish();
        assertThat(state.snapshot(0).get("status").asText()).isEqualTo("finished");
    }
}
