package dev.pipelab.monitoring.metrics;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunTelemetry;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.StepStats;
import dev.pipelab.monitoring.TransferKind;
import dev.pipelab.monitoring.synthetic.FaultyRun;
import dev.pipelab.monitoring.synthetic.StepBuilder;
import dev.pipelab.monitoring.synthetic.SyntheticRun;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class MetricsTest {

    private static final Pattern NAME = Pattern.compile("pipelab_[a-z_]+");
    private static final Set<String> ALLOWED_LABELS = Set.of("stage", "replica", "link", "phase", "kind", "version", "le");

    /** Metrics fed as a run feeds them: through the run's telemetry. */
    private static RunTelemetry fed(Metrics metrics) {
        RunTelemetry telemetry = new RunTelemetry(metrics.info());
        telemetry.addListener(metrics);
        return telemetry;
    }

    @Test
    void namesTypesAndLabelsFollowTheDocumentedSet() {
        SyntheticRun run = new SyntheticRun(4, 2, 4, 0.5, 0.2, 5);
        Metrics metrics = new Metrics(run.info(), "0.1.0-test");
        RunTelemetry telemetry = fed(metrics);
        run.steps(2).forEach(telemetry::emit);
        Event.StepEnded third = new StepBuilder(run.info(), 2).outOfMemory(0, 2, 2, 0.5, 90, 80).ended(1, 100, 0);
        // two of the third step's records did not arrive whole
        telemetry.emit(new Event.StepEnded(third.step(), third.stepSeconds(), third.runSeconds(), third.committedOffset(),
                third.stages(), third.links(), 2));
        telemetry.emit(new Event.FaultInjected(2, 99.5, 0, "stage.crash", "0/2", "stage.crash 0/2 at=2+0.5"));
        PromText text = PromText.parse(metrics.scrape());

        assertThat(text.types).containsEntry("pipelab_stage_busy_seconds_total", "counter")
                .containsEntry("pipelab_stage_idle_seconds_total", "counter")
                .containsEntry("pipelab_stage_memory_bytes", "gauge")
                .containsEntry("pipelab_stage_peak_memory_bytes", "gauge")
                .containsEntry("pipelab_link_transferred_bytes_total", "counter")
                .containsEntry("pipelab_link_queue_depth", "gauge")
                .containsEntry("pipelab_link_stall_seconds_total", "counter")
                .containsEntry("pipelab_step_duration_seconds", "histogram")
                .containsEntry("pipelab_steps_total", "counter")
                .containsEntry("pipelab_bubble_ratio", "gauge")
                .containsEntry("pipelab_samples_per_second", "gauge")
                .containsEntry("pipelab_faults_total", "counter")
                .containsEntry("pipelab_recoveries_total", "counter")
                .containsEntry("pipelab_lost_work_seconds_total", "counter")
                .containsEntry("pipelab_checkpoints_total", "counter")
                .containsEntry("pipelab_goodput_ratio", "gauge")
                .containsEntry("pipelab_out_of_memory_total", "counter")
                .containsEntry("pipelab_telemetry_lost_total", "counter")
                .containsEntry("pipelab_build_info", "gauge"); // the 0.0.4 text format shows an info as a gauge
        for (PromText.Sample s : text.samples) {
            assertThat(s.name()).matches(NAME);
            assertThat(ALLOWED_LABELS).containsAll(s.labels().keySet());
            if (text.types.getOrDefault(s.name(), "").equals("counter")) assertThat(s.name()).endsWith("_total");
        }
        assertThat(text.value("pipelab_build_info", Map.of("version", "0.1.0-test"))).isEqualTo(1);
        assertThat(text.value("pipelab_steps_total", Map.of())).isEqualTo(3);
        assertThat(text.value("pipelab_step_duration_seconds_count", Map.of())).isEqualTo(3);
        assertThat(text.value("pipelab_faults_total", Map.of("kind", "stage.crash"))).isEqualTo(1);
        assertThat(text.value("pipelab_out_of_memory_total", Map.of())).isEqualTo(1);
        assertThat(text.value("pipelab_telemetry_lost_total", Map.of())).isEqualTo(2);
        assertThat(telemetry.telemetryLost()).isEqualTo(2);
        assertThat(text.named("pipelab_stage_busy_seconds_total")).hasSize(4 * 2 * 3); // F, B, OPT per rank
        assertThat(text.value("pipelab_link_transferred_bytes_total", Map.of("link", "0->1")))
                .isEqualTo(2 * 2 * 4 * (double) (1L << 26)); // steps · replicas · micro-batches · bytes
        assertThat(text.value("pipelab_link_stall_seconds_total", Map.of("link", "0->1"))).isCloseTo(2 * 2 * 0.05, within(1e-12));
        // a link that carried has all its series, a stall counter of 0 among them
        assertThat(text.value("pipelab_link_stall_seconds_total", Map.of("link", "1->0"))).isZero();
        assertThat(text.value("pipelab_stage_peak_memory_bytes", Map.of("stage", "0", "replica", "1")))
                .isEqualTo(SyntheticRun.STATIC_BYTES + 4 * SyntheticRun.ACTIVATION_BYTES);
        assertThat(text.value("pipelab_stage_memory_bytes", Map.of("stage", "0", "replica", "1")))
                .isEqualTo(SyntheticRun.STATIC_BYTES);
        // the third step carried nothing: every link shows no queue
        assertThat(text.value("pipelab_link_queue_depth", Map.of("link", "0->1"))).isZero();
    }

    @Test
    void aClusterRunNamesEachStagesNodeInOneInfoMetricAndNoOtherSeriesChanges() {
        SyntheticRun run = new SyntheticRun(2, 2, 2, 0.5, 0.2, 5);
        Metrics cluster = new Metrics(run.deployedOn(3), "test");
        Metrics embedded = new Metrics(run.info(), "test");
        RunTelemetry a = fed(cluster);
        RunTelemetry b = fed(embedded);
        for (var e : run.steps(2)) {
            a.emit(e);
            b.emit(e);
        }
        PromText text = PromText.parse(cluster.scrape());
        assertThat(text.named("pipelab_stage_node_info")).hasSize(4);
        // round-robin over 3 workers: stage replica·p + rank on worker (replica·p + rank) mod 3
        assertThat(text.value("pipelab_stage_node_info", Map.of("stage", "1", "replica", "0", "node", "127.0.0.1:25522"))).isEqualTo(1);
        assertThat(text.value("pipelab_stage_node_info", Map.of("stage", "0", "replica", "1", "node", "127.0.0.1:25523"))).isEqualTo(1);
        assertThat(text.value("pipelab_stage_node_info", Map.of("stage", "1", "replica", "1", "node", "127.0.0.1:25521"))).isEqualTo(1);
        // an embedded run has no node series, and every other series is the same in both
        assertThat(PromText.parse(embedded.scrape()).named("pipelab_stage_node_info")).isEmpty();
        String clusterRest = cluster.scrape().lines().filter(l -> !l.contains("pipelab_stage_node_info")).toList().toString();
        assertThat(clusterRest).isEqualTo(embedded.scrape().lines().toList().toString());
    }

    @Test
    void theGaugesOfTheLastStepAreItsSummarys() {
        SyntheticRun run = new SyntheticRun(4, 2, 4, 0.5, 0.2, 5);
        Metrics metrics = new Metrics(run.info(), "test");
        RunTelemetry telemetry = fed(metrics);
        run.steps(2).forEach(telemetry::emit);
        PromText text = PromText.parse(metrics.scrape());
        StepStats last = telemetry.summary(1).orElseThrow().stats();
        assertThat(text.value("pipelab_bubble_ratio", Map.of())).isEqualTo(last.bubbleFraction());
        assertThat(text.value("pipelab_samples_per_second", Map.of())).isEqualTo(last.samplesPerSecond());
        assertThat(text.value("pipelab_last_step_duration_seconds", Map.of())).isEqualTo(last.stepSeconds());
        assertThat(text.value("pipelab_link_queue_depth", Map.of("link", "0->1"))).isGreaterThanOrEqualTo(1);
    }

    @Test
    void countersGrowAndBusyPlusIdleIsElapsedAtEveryStepEnd() {
        SyntheticRun run = new SyntheticRun(3, 2, 3, 0.2, 0.5, 9);
        Metrics metrics = new Metrics(run.info(), "test");
        RunTelemetry telemetry = fed(metrics);
        Map<String, Double> previous = new HashMap<>();
        for (int step = 0; step < 4; step++) {
            List<Event> events = run.nextStep();
            // scrape while the step runs as well: counters must not go back there either
            telemetry.emit(events.get(0));
            checkMonotonic(PromText.parse(metrics.scrape()), previous);
            telemetry.emit(events.get(1));
            PromText text = checkMonotonic(PromText.parse(metrics.scrape()), previous);
            Event.StepEnded ended = (Event.StepEnded) events.get(1);
            for (int replica = 0; replica < 2; replica++) {
                for (int stage = 0; stage < 3; stage++) {
                    double busy = 0;
                    for (Phase phase : Phase.values()) {
                        Map<String, String> labels = Map.of("stage", "" + stage, "replica", "" + replica, "phase", phase.name());
                        busy += text.named("pipelab_stage_busy_seconds_total").stream()
                                .filter(s -> s.labels().equals(labels)).mapToDouble(PromText.Sample::value).sum();
                    }
                    double idle = text.value("pipelab_stage_idle_seconds_total", Map.of("stage", "" + stage, "replica", "" + replica));
                    assertThat(idle).isGreaterThan(0);
                    assertThat(busy + idle).as("stage %d replica %d after step %d", stage, replica, step)
                            .isCloseTo(ended.runSeconds(), within(1e-9));
                }
            }
            assertThat(text.value("pipelab_run_seconds", Map.of())).isEqualTo(ended.runSeconds());
        }
    }

    @Test
    void busyCountersAreTheSumOfDurationsPerPhase() {
        SyntheticRun run = new SyntheticRun(3, 2, 4, 0.2, 0.5, 3);
        List<Event> events = new ArrayList<>(run.steps(3));
        // a phase of no time counts nowhere and creates no series
        events.add(new StepBuilder(run.info(), 3).action(1, 2, 2, Phase.W, 0, 0.1, 0.1, 0).ended(1, 100, 0));
        Metrics metrics = new Metrics(run.info(), "test");
        RunTelemetry telemetry = fed(metrics);
        events.forEach(telemetry::emit);

        Map<Map<String, String>, Double> expected = new HashMap<>();
        for (Event e : events) {
            if (!(e instanceof Event.StepEnded ended)) continue;
            for (StageRecord r : ended.stages()) {
                for (StageRecord.Action a : r.actions()) {
                    if (a.durationSeconds() <= 0) continue;
                    expected.merge(Map.of("stage", "" + r.rank(), "replica", "" + r.replica(), "phase", a.phase().name()),
                            a.durationSeconds(), Double::sum);
                }
            }
        }
        PromText text = PromText.parse(metrics.scrape());
        List<PromText.Sample> busy = text.named("pipelab_stage_busy_seconds_total");
        assertThat(busy).hasSize(expected.size()).hasSize(3 * 2 * 3); // F, B, OPT per (stage, replica)
        for (PromText.Sample s : busy) {
            assertThat(s.value()).as(s.labels().toString()).isCloseTo(expected.get(s.labels()), within(1e-12));
        }
    }

    @Test
    void theLossGaugeAppearsWithTheFirstLossAndShowsTheLatestStepsLoss() {
        SyntheticRun run = new SyntheticRun(2, 1, 2, 0.5, 0.2, 1);
        Metrics metrics = new Metrics(run.info(), "test");
        RunTelemetry telemetry = fed(metrics);
        run.steps(1).forEach(telemetry::emit);
        PromText emulated = PromText.parse(metrics.scrape());
        assertThat(emulated.types).doesNotContainKey("pipelab_training_loss"); // no loss: no gauge that claims one
        telemetry.emit(new Event.StepLoss(0, 2.25));
        telemetry.emit(new Event.StepLoss(2, 1.5));
        telemetry.emit(new Event.StepLoss(1, 1.75)); // late: an earlier step's loss does not replace the latest
        PromText text = PromText.parse(metrics.scrape());
        assertThat(text.types).containsEntry("pipelab_training_loss", "gauge");
        assertThat(text.value("pipelab_training_loss", Map.of())).isEqualTo(1.5);
        assertThat(text.named("pipelab_training_loss")).hasSize(1);
    }

    @Test
    void theMemoryGaugeShowsTheLatestStepsLiveBytesAndThePeakOfEveryStep() {
        SyntheticRun shape = new SyntheticRun(2, 1, 1, 1, 0, 1);
        Metrics metrics = new Metrics(shape.info(), "test");
        RunTelemetry telemetry = fed(metrics);
        Map<String, String> rank1 = Map.of("stage", "1", "replica", "0");
        telemetry.emit(memory(shape, 0, new double[][] {{1.0, 100}, {1.5, 400}, {2.0, 200}}));
        assertThat(PromText.parse(metrics.scrape()).value("pipelab_stage_memory_bytes", rank1)).isEqualTo(200);
        telemetry.emit(memory(shape, 1, new double[][] {{0.1, 10}}));
        PromText text = PromText.parse(metrics.scrape());
        assertThat(text.value("pipelab_stage_memory_bytes", rank1)).isEqualTo(10);
        assertThat(text.value("pipelab_stage_peak_memory_bytes", rank1)).isEqualTo(400);
        // a rank that never changed shows its static bytes
        assertThat(text.value("pipelab_stage_memory_bytes", Map.of("stage", "0", "replica", "0")))
                .isEqualTo(SyntheticRun.STATIC_BYTES);
    }

    @Test
    void queueDepthIsTheDeepestReplicasOfTheLatestStep() {
        SyntheticRun shape = new SyntheticRun(2, 2, 1, 1, 0, 1);
        Metrics metrics = new Metrics(shape.info(), "test");
        RunTelemetry telemetry = fed(metrics);
        telemetry.emit(new Event.StepStarted(0, 0, 0, 1));
        StepBuilder b = new StepBuilder(shape.info(), 0);
        // replica 0: waits [0,2), [1,3) and [1.5,4): three at once at 1.5
        transfers(b, 0, new double[][] {{0, 2}, {1, 3}, {1.5, 4}, {5, 5}});
        // replica 1: a wait that ends where the next begins does not stack on it
        transfers(b, 1, new double[][] {{0, 1}, {1, 2}, {2, 3}});
        telemetry.emit(b.ended(10, 10, 0));
        PromText text = PromText.parse(metrics.scrape());
        assertThat(text.value("pipelab_link_queue_depth", Map.of("link", "0->1"))).isEqualTo(3);
        assertThat(text.value("pipelab_link_transferred_bytes_total", Map.of("link", "0->1"))).isEqualTo(700);

        // the next step: only replica 1's chain, so depth 1
        telemetry.emit(new Event.StepStarted(1, 10, 0, 1));
        StepBuilder next = new StepBuilder(shape.info(), 1);
        transfers(next, 1, new double[][] {{0, 1}, {1, 2}});
        telemetry.emit(next.ended(10, 20, 0));
        text = PromText.parse(metrics.scrape());
        assertThat(text.value("pipelab_link_queue_depth", Map.of("link", "0->1"))).isEqualTo(1);
        assertThat(text.value("pipelab_link_transferred_bytes_total", Map.of("link", "0->1"))).isEqualTo(900);
    }

    /** A step in which rank 1 of replica 0 changed its memory at (time, bytes), in that order. */
    private static Event.StepEnded memory(SyntheticRun shape, int step, double[][] changes) {
        StepBuilder b = new StepBuilder(shape.info(), step);
        for (double[] c : changes) b.memory(0, 1, c[0], (long) c[1]);
        return b.ended(5, 5 * (step + 1), 0);
    }

    /** Link 0->1 of {@code replica}: one 100-byte transfer per (ready, start) pair. */
    private static void transfers(StepBuilder b, int replica, double[][] waits) {
        for (double[] w : waits) b.transfer(replica, 0, 1, TransferKind.ACTIVATION, 0, 0, 100, w[0], w[1], w[1] + 0.5);
    }


    @Test
    void faultRecoveryAndCheckpointCountersFollowTheEventsAndGoodputIsTheSummarys() {
        SyntheticRun shape = new SyntheticRun(2, 2, 2, 1, 0, 1);
        Metrics metrics = new Metrics(shape.info(), "test");
        RunTelemetry telemetry = fed(metrics);
        List<Event> events = FaultyRun.events(shape.info());
        // a fault-free beginning: zero counters, no goodput gauge (all time is useful so far)
        events.subList(0, 3).forEach(telemetry::emit);
        PromText before = PromText.parse(metrics.scrape());
        assertThat(before.value("pipelab_recoveries_total", Map.of())).isZero();
        assertThat(before.value("pipelab_lost_work_seconds_total", Map.of())).isZero();
        assertThat(before.value("pipelab_checkpoints_total", Map.of())).isZero();
        assertThat(before.named("pipelab_faults_total")).isEmpty();
        assertThat(before.types).doesNotContainKey("pipelab_goodput_ratio");

        Map<String, Double> previous = new HashMap<>();
        for (Event e : events) {
            telemetry.emit(e);
            checkMonotonic(PromText.parse(metrics.scrape()), previous);
        }
        events.forEach(telemetry::emit); // every event again: nothing is counted twice
        PromText text = PromText.parse(metrics.scrape());
        assertThat(text.value("pipelab_faults_total", Map.of("kind", "stage.crash"))).isEqualTo(1);
        assertThat(text.value("pipelab_faults_total", Map.of("kind", "link.latency"))).isEqualTo(1);
        assertThat(text.value("pipelab_recoveries_total", Map.of())).isEqualTo(1);
        assertThat(text.value("pipelab_lost_work_seconds_total", Map.of())).isEqualTo(FaultyRun.LOST_WORK_SECONDS);
        assertThat(text.value("pipelab_checkpoints_total", Map.of())).isEqualTo(1);
        assertThat(text.value("pipelab_goodput_ratio", Map.of())).isEqualTo(FaultyRun.GOODPUT)
                .isEqualTo(telemetry.faultSummary().goodput());
        assertThat(text.types).containsEntry("pipelab_goodput_ratio", "gauge");
        assertThat(metrics.scrape()).contains("# HELP pipelab_goodput_ratio Useful step time")
                .contains("# HELP pipelab_recoveries_total Failed attempts");
    }

    @Test
    void aFaultBeforeAnyTimeElapsedIsCountedButClaimsNoGoodput() {
        SyntheticRun shape = new SyntheticRun(2, 1, 2, 1, 0, 1);
        Metrics metrics = new Metrics(shape.info(), "test");
        RunTelemetry telemetry = fed(metrics);
        telemetry.emit(new Event.FaultInjected(0, 0.0, 0, "stage.slowdown", "0/1", "stage.slowdown 0/1 at=0"));
        PromText text = PromText.parse(metrics.scrape());
        assertThat(text.value("pipelab_faults_total", Map.of("kind", "stage.slowdown"))).isEqualTo(1);
        assertThat(text.types).doesNotContainKey("pipelab_goodput_ratio");
    }

    @Test
    void goodputMovesWithEveryCommittedStepAfterARecovery() {
        SyntheticRun shape = new SyntheticRun(2, 1, 2, 1, 0, 1);
        Metrics metrics = new Metrics(shape.info(), "test");
        RunTelemetry telemetry = fed(metrics);
        List<Event> events = FaultyRun.events(shape.info());
        // up to and including attempt 3's commit: useful attempts 0 and 3 (20 s) of 50 s
        int end = events.indexOf(FaultyRun.commit(shape.info(), 3, 1)) + 1;
        events.subList(0, end).forEach(telemetry::emit);
        assertThat(PromText.parse(metrics.scrape()).value("pipelab_goodput_ratio", Map.of())).isEqualTo(20.0 / 50.0);
    }

    private static PromText checkMonotonic(PromText text, Map<String, Double> previous) {
        for (PromText.Sample s : text.samples) {
            if (!s.name().endsWith("_total") && !s.name().endsWith("_count") && !s.name().endsWith("_sum")
                    && !s.name().endsWith("_bucket")) continue;
            String key = s.name() + s.labels();
            Double before = previous.put(key, s.value());
            if (before != null) assertThat(s.value()).as(key).isGreaterThanOrEqualTo(before);
        }
        return text;
    }
}
