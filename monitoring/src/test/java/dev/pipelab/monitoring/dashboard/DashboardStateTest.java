package dev.pipelab.monitoring.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.LinkActivity;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RankActivity;
import dev.pipelab.monitoring.RankStats;
import dev.pipelab.monitoring.RunAggregate;
import dev.pipelab.monitoring.synthetic.Cuts;
import dev.pipelab.monitoring.synthetic.SyntheticRun;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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

    @Test
    void severalSlicesPerRankGiveTheSnapshotOfOneBatchPerRank() {
        // SyntheticRun sorts a step's spans by time before batching, so its ranks come in many slices each
        List<Event> sliced = new SyntheticRun(4, 3, 4, 0.1, 0.3, 11).steps(5);
        List<Event> perRank = Cuts.onePerRank(sliced);
        List<Event> perSpan = Cuts.onePerSpan(sliced);
        assertThat(sliced.stream().filter(e -> e instanceof RankActivity).count()).isGreaterThan(5 * 3 * 4);
        assertThat(perRank.stream().filter(e -> e instanceof RankActivity).count()).isEqualTo(5 * 3 * 4);

        SyntheticRun shape = new SyntheticRun(4, 3, 4, 0.1, 0.3, 11);
        List<List<JsonNode>> byStream = new ArrayList<>();
        for (List<Event> events : List.of(perRank, sliced, perSpan)) {
            DashboardState state = new DashboardState(shape.info());
            List<JsonNode> snapshots = new ArrayList<>();
            for (Event e : events) {
                state.emit(e);
                if (e instanceof Event.StepEnded) {
                    for (int replica = 0; replica < 3; replica++) snapshots.add(comparable(state.snapshot(replica)));
                }
            }
            byStream.add(snapshots);
        }
        assertThat(byStream.get(0)).hasSize(5 * 3);
        assertThat(byStream.get(1)).isEqualTo(byStream.get(0));
        assertThat(byStream.get(2)).isEqualTo(byStream.get(0));
        JsonNode last = byStream.get(0).get(byStream.get(0).size() - 1);
        assertThat(last.get("gantt").get("segments")).hasSize(DashboardState.GANTT_STEPS * 4 * (4 + 4 + 1));
        assertThat(last.get("links").get(0).get("queueDepth").asInt()).isPositive();
    }

    @Test
    void aStepOverTheSegmentLimitIsShownAloneAndWhole() {
        SyntheticRun shape = new SyntheticRun(1, 1, 1, 1, 0, 1);
        DashboardState state = new DashboardState(shape.info());
        int perStep = DashboardState.MAX_SEGMENTS * 5 / 8;
        for (int step = 0; step < 3; step++) {
            state.emit(new Event.StepStarted(step, step, 0, 1));
            for (int slice = 0; slice < 5; slice++) { // in slices, as a wall-clock run reports
                RankActivity.Recorder r = new RankActivity.Recorder(0, 0);
                for (int i = slice * perStep / 5; i < (slice + 1) * perStep / 5; i++) {
                    r.action(Phase.F, 0, i, i * 1e-5, (i + 1) * 1e-5, 1e-5);
                }
                state.emit(r.take(step));
            }
            state.emit(new Event.StepEnded(step, perStep * 1e-5, step + perStep * 1e-5, 0));
        }
        JsonNode gantt = state.snapshot(0).get("gantt");
        assertThat(gantt.get("steps")).hasSize(1);
        assertThat(gantt.get("steps").get(0).get("step").asInt()).isEqualTo(2);
        assertThat(gantt.get("segments")).hasSize(perStep);
        JsonNode seg = gantt.get("segments").get(perStep - 1);
        assertThat(seg.get(2).asInt()).isEqualTo(perStep - 1);
        assertThat(seg.get(3).asDouble()).isEqualTo(2 + (perStep - 1) * 1e-5);
        assertThat(state.snapshot(0).get("ranks").get(0).get("utilisation").asDouble()).isCloseTo(1, within(1e-9));
    }

    @Test
    void queueDepthCountsWaitsOfAllSlicesOfAStepAndTheDeepestReplica() {
        SyntheticRun shape = new SyntheticRun(2, 2, 1, 1, 0, 1);
        DashboardState state = new DashboardState(shape.info());
        state.emit(new Event.StepStarted(0, 0, 0, 1));
        // replica 0: waits [0,2) and [1,3) in one slice, [1.5,4) in the next: three at once at 1.5
        state.emit(transfers(0, 0, new double[][] {{0, 2}, {1, 3}}));
        state.emit(transfers(0, 0, new double[][] {{1.5, 4}, {5, 5}}));
        // replica 1: a wait that ends where the next begins does not stack on it
        state.emit(transfers(0, 1, new double[][] {{0, 1}, {1, 2}, {2, 3}}));
        state.emit(new Event.StepEnded(0, 10, 10, 0));
        JsonNode link = state.snapshot(0).get("links").get(0);
        assertThat(link.get("link").asText()).isEqualTo("0->1");
        assertThat(link.get("queueDepth").asInt()).isEqualTo(3);
        assertThat(link.get("bytes").asLong()).isEqualTo(7 * 100);
        assertThat(link.get("throughputBytesPerSecond").asDouble()).isEqualTo(70.0);

        // the next step: only replica 1's chain, so depth 1; a late transfer of step 0 changes nothing shown
        state.emit(new Event.StepStarted(1, 10, 0, 1));
        state.emit(transfers(1, 1, new double[][] {{0, 1}, {1, 2}}));
        state.emit(transfers(0, 0, new double[][] {{0, 9}, {0, 9}, {0, 9}, {0, 9}}));
        state.emit(new Event.StepEnded(1, 10, 20, 0));
        link = state.snapshot(0).get("links").get(0);
        assertThat(link.get("queueDepth").asInt()).isEqualTo(1);
        assertThat(link.get("bytes").asLong()).isEqualTo(13 * 100);
        assertThat(link.get("throughputBytesPerSecond").asDouble()).isEqualTo(20.0);
    }

    @Test
    void aBatchOfARankOutsideTheRunIsRefused() {
        DashboardState state = new DashboardState(new SyntheticRun(2, 2, 1, 1, 0, 1).info());
        RankActivity.Recorder r = new RankActivity.Recorder(2, 0);
        r.action(Phase.F, 0, 0, 0, 1, 1);
        assertThatThrownBy(() -> state.emit(r.take(0))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("replica 2 rank 0 outside d=2 p=2");
    }

    /** Link 0->1 of {@code replica}: one 100-byte transfer per (ready, start) pair. */
    private static LinkActivity transfers(int step, int replica, double[][] waits) {
        LinkActivity.Recorder r = new LinkActivity.Recorder(replica, 0, 1);
        for (double[] w : waits) r.transfer("activation", 0, 0, 100, w[0], w[1], w[1] + 0.5);
        return r.take(step);
    }

    /** A snapshot without what depends on how the stream is cut: the version, and the order of segments. */
    private static JsonNode comparable(ObjectNode snapshot) {
        snapshot.remove("version");
        ArrayNode segments = (ArrayNode) snapshot.get("gantt").get("segments");
        List<String> sorted = new ArrayList<>();
        segments.forEach(seg -> sorted.add(seg.toString()));
        sorted.sort(null);
        segments.removeAll();
        sorted.forEach(segments::add);
        return snapshot;
    }

}
