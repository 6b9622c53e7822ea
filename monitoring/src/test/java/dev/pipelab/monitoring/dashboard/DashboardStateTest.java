package dev.pipelab.monitoring.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunTelemetry;
import dev.pipelab.monitoring.StepSummary;
import dev.pipelab.monitoring.TransferKind;
import dev.pipelab.monitoring.synthetic.FaultyRun;
import dev.pipelab.monitoring.synthetic.StepBuilder;
import dev.pipelab.monitoring.synthetic.SyntheticRun;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class DashboardStateTest {

    /** A dashboard fed as a run feeds it: through the run's telemetry. */
    private static RunTelemetry fed(DashboardState state) {
        RunTelemetry telemetry = new RunTelemetry(state.info());
        telemetry.addListener(state);
        return telemetry;
    }

    @Test
    void twoThousandFortyEightDevicesGiveSixteenRowsAndOneReplicasGantt() {
        SyntheticRun run = new SyntheticRun(16, 128, 8, 0.01, 0.3, 8); // 2,048 devices
        DashboardState state = new DashboardState(run.info());
        RunTelemetry telemetry = fed(state);
        run.steps(4).forEach(telemetry::emit);

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

        // utilisation is the mean over replicas of the last step's busy fractions; the bubble is the summary's
        StepSummary last = telemetry.summary(3).orElseThrow();
        for (int rank = 0; rank < 16; rank++) {
            double mean = 0;
            for (int replica = 0; replica < 128; replica++) mean += last.rank(replica, rank).busyFraction() / 128;
            assertThat(st.get("ranks").get(rank).get("utilisation").asDouble()).isCloseTo(mean, within(1e-9));
        }
        assertThat(st.get("utilisationStep").asInt()).isEqualTo(3);
        assertThat(st.get("steps")).hasSize(4);
        assertThat(st.get("steps").get(3).get("bubble").asDouble()).isEqualTo(last.stats().bubbleFraction());
    }

    @Test
    void aClusterRunsSnapshotNamesEachRanksNodePerReplica() {
        SyntheticRun run = new SyntheticRun(2, 2, 2, 1, 0, 1);
        DashboardState state = new DashboardState(run.deployedOn(3));
        run.steps(1).forEach(fed(state)::emit);
        JsonNode st = state.snapshot(0);
        assertThat(st.get("run").get("placement").asText()).isEqualTo("spread");
        assertThat(st.get("run").get("workers").toString()).isEqualTo("[\"127.0.0.1:25521\",\"127.0.0.1:25522\",\"127.0.0.1:25523\"]");
        assertThat(st.get("ranks").get(0).get("nodes").toString()).isEqualTo("[\"127.0.0.1:25521\",\"127.0.0.1:25523\"]");
        assertThat(st.get("ranks").get(1).get("nodes").toString()).isEqualTo("[\"127.0.0.1:25522\",\"127.0.0.1:25521\"]");

        JsonNode embedded = new DashboardState(run.info()).snapshot(0);
        assertThat(embedded.get("run").has("workers")).isFalse();
        assertThat(embedded.get("ranks").get(0).has("nodes")).isFalse();
    }

    @Test
    void stepListenersHearEveryStepEnd() {
        SyntheticRun run = new SyntheticRun(2, 1, 2, 1, 0, 1);
        DashboardState state = new DashboardState(run.info());
        List<Integer> heard = new CopyOnWriteArrayList<>();
        state.onStepEnded(heard::add);
        run.steps(3).forEach(fed(state)::emit);
        assertThat(heard).containsExactly(0, 1, 2);
        assertThat(state.snapshot(0).get("status").asText()).isEqualTo("running");
        state.finish();
        assertThat(state.snapshot(0).get("status").asText()).isEqualTo("finished");
    }

    @Test
    void eachStepEndShowsTheLatestStepsGanttAndQueues() {
        SyntheticRun run = new SyntheticRun(4, 3, 4, 0.1, 0.3, 11);
        DashboardState state = new DashboardState(run.info());
        RunTelemetry telemetry = fed(state);
        List<Long> versions = new ArrayList<>();
        for (Event e : run.steps(5)) {
            telemetry.emit(e);
            if (e instanceof Event.StepEnded) versions.add(state.version());
        }
        assertThat(versions).containsExactly(1L, 2L, 3L, 4L, 5L);
        JsonNode last = state.snapshot(2);
        assertThat(last.get("completedSteps").asInt()).isEqualTo(5);
        assertThat(last.get("gantt").get("segments")).hasSize(DashboardState.GANTT_STEPS * 4 * (4 + 4 + 1));
        assertThat(last.get("gantt").get("steps").get(2).get("ended").asBoolean()).isTrue();
        assertThat(last.get("links").get(0).get("queueDepth").asInt()).isPositive();
    }

    @Test
    void aStepOverTheSegmentLimitIsShownAloneAndWhole() {
        SyntheticRun shape = new SyntheticRun(1, 1, 1, 1, 0, 1);
        DashboardState state = new DashboardState(shape.info());
        RunTelemetry telemetry = fed(state);
        int perStep = DashboardState.MAX_SEGMENTS * 5 / 8;
        for (int step = 0; step < 3; step++) {
            telemetry.emit(new Event.StepStarted(step, step, 0, 1));
            StepBuilder b = new StepBuilder(shape.info(), step);
            for (int i = 0; i < perStep; i++) b.action(0, 0, 0, Phase.F, i, i * 1e-5, (i + 1) * 1e-5, 1e-5);
            telemetry.emit(b.ended(perStep * 1e-5, step + perStep * 1e-5, 0));
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
    void queueDepthIsTheDeepestReplicasOfTheLatestStep() {
        SyntheticRun shape = new SyntheticRun(2, 2, 1, 1, 0, 1);
        DashboardState state = new DashboardState(shape.info());
        RunTelemetry telemetry = fed(state);
        telemetry.emit(new Event.StepStarted(0, 0, 0, 1));
        StepBuilder b = new StepBuilder(shape.info(), 0);
        // replica 0: waits [0,2), [1,3) and [1.5,4): three at once at 1.5
        transfers(b, 0, new double[][] {{0, 2}, {1, 3}, {1.5, 4}, {5, 5}});
        // replica 1: a wait that ends where the next begins does not stack on it
        transfers(b, 1, new double[][] {{0, 1}, {1, 2}, {2, 3}});
        telemetry.emit(b.ended(10, 10, 0));
        JsonNode link = state.snapshot(0).get("links").get(0);
        assertThat(link.get("link").asText()).isEqualTo("0->1");
        assertThat(link.get("queueDepth").asInt()).isEqualTo(3);
        assertThat(link.get("bytes").asLong()).isEqualTo(7 * 100);
        assertThat(link.get("throughputBytesPerSecond").asDouble()).isEqualTo(70.0);

        // the next step: only replica 1's chain, so depth 1
        telemetry.emit(new Event.StepStarted(1, 10, 0, 1));
        StepBuilder next = new StepBuilder(shape.info(), 1);
        transfers(next, 1, new double[][] {{0, 1}, {1, 2}});
        telemetry.emit(next.ended(10, 20, 0));
        link = state.snapshot(0).get("links").get(0);
        assertThat(link.get("queueDepth").asInt()).isEqualTo(1);
        assertThat(link.get("bytes").asLong()).isEqualTo(9 * 100);
        assertThat(link.get("throughputBytesPerSecond").asDouble()).isEqualTo(20.0);
    }

    @Test
    void outOfMemoryIsMarkedOnTheRunsAxis() {
        SyntheticRun shape = new SyntheticRun(2, 1, 1, 1, 0, 1);
        DashboardState state = new DashboardState(shape.info());
        RunTelemetry telemetry = fed(state);
        telemetry.emit(new Event.StepStarted(0, 4.0, 0, 1));
        telemetry.emit(new StepBuilder(shape.info(), 0).outOfMemory(0, 1, 1, 0.5, 9, 8).ended(1, 5, 0));
        JsonNode fault = state.snapshot(0).get("faults").get(0);
        assertThat(fault.get("runSeconds").asDouble()).isEqualTo(4.5);
        assertThat(fault.get("kind").asText()).isEqualTo("out of memory");
        assertThat(fault.get("detail").asText()).isEqualTo("replica 0 rank 1: 9 of 8 bytes");
    }

    @Test
    void aRecordOfARankOutsideTheRunIsRefused() {
        SyntheticRun shape = new SyntheticRun(2, 2, 1, 1, 0, 1);
        RunTelemetry telemetry = fed(new DashboardState(shape.info()));
        StepBuilder b = new StepBuilder(shape.info(), 0).action(2, 0, 0, Phase.F, 0, 0, 1);
        assertThatThrownBy(() -> telemetry.emit(b.ended(1, 1, 0))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("replica 2 rank 0 outside d=2 p=2");
    }

    /** Link 0->1 of {@code replica}: one 100-byte transfer per (ready, start) pair. */
    private static void transfers(StepBuilder b, int replica, double[][] waits) {
        for (double[] w : waits) b.transfer(replica, 0, 1, TransferKind.ACTIVATION, 0, 0, 100, w[0], w[1], w[1] + 0.5);
    }

    @Test
    void theFaultsPanelAndTheMarkersComeFromTheRunsFaultSummary() {
        SyntheticRun shape = new SyntheticRun(2, 1, 2, 1, 0, 1);
        DashboardState state = new DashboardState(shape.info());
        RunTelemetry telemetry = fed(state);
        JsonNode none = state.snapshot(0).get("recovery");
        assertThat(none.get("faults")).isEmpty();
        assertThat(none.get("goodput").asDouble()).isEqualTo(1.0);
        assertThat(none.get("ledger").get("recorded").asBoolean()).isFalse();

        FaultyRun.events(shape.info()).forEach(telemetry::emit);
        JsonNode st = state.snapshot(0);
        JsonNode rec = st.get("recovery");
        assertThat(rec.get("goodput").asDouble()).isEqualTo(FaultyRun.GOODPUT);
        assertThat(rec.get("faults")).hasSize(2);
        assertThat(rec.get("faults").get(0).get("detectedAtSeconds").asDouble()).isEqualTo(27.0);
        assertThat(rec.get("faults").get(1).get("healedAtSeconds").asDouble()).isEqualTo(45.0);
        assertThat(rec.get("faults").get(1).get("recoveredAtSeconds").isNull()).isTrue();
        assertThat(rec.get("recoveries")).hasSize(1);
        assertThat(rec.get("checkpoints").asInt()).isEqualTo(1);
        assertThat(rec.get("ledger").get("balanced").asBoolean()).isTrue();
        assertThat(rec.get("ledger").get("verdict").asText()).isEqualTo("balanced (3 training steps)");
        // every moment on the run's axis, by time
        List<String> marks = new ArrayList<>();
        st.get("faults").forEach(m -> marks.add(m.get("runSeconds").asDouble() + " " + m.get("type").asText()));
        assertThat(marks).containsExactly("25.0 inject", "27.0 detect", "40.0 recovered", "41.0 inject", "45.0 heal");
        assertThat(st.get("version").asLong()).isGreaterThan(0);
    }
}
