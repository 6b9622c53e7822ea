package dev.pipelab.monitoring.metrics;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.synthetic.Cuts;
import dev.pipelab.monitoring.Events;
import dev.pipelab.monitoring.LinkActivity;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RankActivity;
import dev.pipelab.monitoring.RunAggregate;
import dev.pipelab.monitoring.StepStats;
import dev.pipelab.monitoring.synthetic.SyntheticRun;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class MetricsTest {

    private static final Pattern NAME = Pattern.compile("pipelab_[a-z_]+");
    private static final Set<String> ALLOWED_LABELS = Set.of("stage", "replica", "link", "phase", "kind", "version", "le");

    @Test
    void namesTypesAndLabelsFollowDesignSection7() {
        SyntheticRun run = new SyntheticRun(4, 2, 4, 0.5, 0.2, 5);
        Metrics metrics = new Metrics(run.info(), "0.1.0-test");
        run.steps(2).forEach(metrics::emit);
        metrics.emit(new Event.OutOfMemory(1, 0, 2, 0.5, 90, 80));
        metrics.fault("stage.crash");
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
                .containsEntry("pipelab_out_of_memory_total", "counter")
                .containsEntry("pipelab_build_info", "gauge"); // the 0.0.4 text format shows an info as a gauge
        for (PromText.Sample s : text.samples) {
            assertThat(s.name()).matches(NAME);
            assertThat(ALLOWED_LABELS).containsAll(s.labels().keySet());
            if (text.types.getOrDefault(s.name(), "").equals("counter")) assertThat(s.name()).endsWith("_total");
        }
        assertThat(text.value("pipelab_build_info", Map.of("version", "0.1.0-test"))).isEqualTo(1);
        assertThat(text.value("pipelab_steps_total", Map.of())).isEqualTo(2);
        assertThat(text.value("pipelab_step_duration_seconds_count", Map.of())).isEqualTo(2);
        assertThat(text.value("pipelab_faults_total", Map.of("kind", "stage.crash"))).isEqualTo(1);
        assertThat(text.value("pipelab_out_of_memory_total", Map.of())).isEqualTo(1);
        assertThat(text.named("pipelab_stage_busy_seconds_total")).hasSize(4 * 2 * 3); // F, B, OPT per rank
        assertThat(text.value("pipelab_link_transferred_bytes_total", Map.of("link", "0->1")))
                .isEqualTo(2 * 2 * 4 * (double) (1L << 26)); // steps · replicas · micro-batches · bytes
        assertThat(text.value("pipelab_link_stall_seconds_total", Map.of("link", "0->1"))).isCloseTo(2 * 2 * 0.05, within(1e-12));
        assertThat(text.value("pipelab_stage_peak_memory_bytes", Map.of("stage", "0", "replica", "1")))
                .isEqualTo(SyntheticRun.STATIC_BYTES + 4 * SyntheticRun.ACTIVATION_BYTES);
        assertThat(text.value("pipelab_stage_memory_bytes", Map.of("stage", "0", "replica", "1")))
                .isEqualTo(SyntheticRun.STATIC_BYTES);
        assertThat(text.value("pipelab_link_queue_depth", Map.of("link", "0->1"))).isGreaterThanOrEqualTo(1);

        // the gauges of the last step agree with the existing aggregation of the same events
        RunAggregate aggregate = RunAggregate.of(run.info(), new SyntheticRun(4, 2, 4, 0.5, 0.2, 5).steps(2));
        StepStats last = aggregate.stepStats().get(1);
        assertThat(text.value("pipelab_bubble_ratio", Map.of())).isCloseTo(last.bubbleFraction(), within(1e-12));
        assertThat(text.value("pipelab_samples_per_second", Map.of())).isCloseTo(last.samplesPerSecond(), within(1e-9));
    }

    @Test
    void countersGrowAndBusyPlusIdleIsElapsedAtEveryStepEnd() {
        SyntheticRun run = new SyntheticRun(3, 2, 3, 0.2, 0.5, 9);
        Metrics metrics = new Metrics(run.info(), "test");
        Map<String, Double> previous = new HashMap<>();
        for (int step = 0; step < 4; step++) {
            List<Event> events = run.nextStep();
            // scrape half-way through the step as well: counters must not go back there either
            for (int i = 0; i < events.size(); i++) {
                metrics.emit(events.get(i));
                if (i == events.size() / 2) checkMonotonic(PromText.parse(metrics.scrape()), previous);
            }
            PromText text = checkMonotonic(PromText.parse(metrics.scrape()), previous);
            Event.StepEnded ended = (Event.StepEnded) events.get(events.size() - 1);
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
        // a span of no time (and one of negative time) counts nowhere and creates no series
        RankActivity.Recorder r = new RankActivity.Recorder(1, 2);
        r.action(Phase.W, 2, 0, 0.1, 0.1, 0);
        r.action(Phase.R, 2, 0, 0.2, 0.1, -0.1);
        r.action(Phase.F, 2, 0, 0.3, 0.4, 0.1);
        events.add(events.size() - 1, r.take(2));
        Metrics metrics = new Metrics(run.info(), "test");
        events.forEach(metrics::emit);

        Map<Map<String, String>, Double> expected = new HashMap<>();
        for (Event.Detail x : Events.details(events)) {
            if (x instanceof Event.ActionSpan a && a.seconds() > 0) {
                expected.merge(Map.of("stage", "" + a.rank(), "replica", "" + a.replica(), "phase", a.phase().name()),
                        a.seconds(), Double::sum);
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
    void severalSlicesPerRankGiveTheScrapeOfOneBatchPerRank() {
        // SyntheticRun sorts a step's spans by time before batching, so its ranks come in many slices each
        List<Event> sliced = new SyntheticRun(4, 3, 4, 0.1, 0.3, 11).steps(4);
        List<Event> perRank = Cuts.onePerRank(sliced);
        assertThat(sliced.stream().filter(e -> e instanceof RankActivity).count()).isGreaterThan(4 * 3 * 4);
        assertThat(perRank.stream().filter(e -> e instanceof RankActivity).count()).isEqualTo(4 * 3 * 4);
        SyntheticRun shape = new SyntheticRun(4, 3, 4, 0.1, 0.3, 11);
        List<List<PromText>> byStream = new ArrayList<>();
        for (List<Event> events : List.of(perRank, sliced, Cuts.onePerSpan(sliced))) {
            Metrics metrics = new Metrics(shape.info(), "test");
            List<PromText> scrapes = new ArrayList<>();
            for (Event e : events) {
                metrics.emit(e);
                if (e instanceof Event.StepEnded) scrapes.add(PromText.parse(metrics.scrape()));
            }
            byStream.add(scrapes);
        }
        for (int k = 1; k < byStream.size(); k++) {
            for (int step = 0; step < 4; step++) {
                PromText one = byStream.get(0).get(step);
                PromText other = byStream.get(k).get(step);
                assertThat(other.types).isEqualTo(one.types);
                assertThat(other.samples).hasSameSizeAs(one.samples);
                for (int i = 0; i < one.samples.size(); i++) {
                    PromText.Sample a = one.samples.get(i);
                    PromText.Sample b = other.samples.get(i);
                    assertThat(b.name() + b.labels()).isEqualTo(a.name() + a.labels());
                    if (a.name().equals("pipelab_stage_busy_seconds_total")
                            || a.name().equals("pipelab_link_stall_seconds_total")) {
                        // one inc per batch: the sums differ in how they are grouped, so in the last bits
                        assertThat(b.value()).as(a.name() + a.labels()).isCloseTo(a.value(), within(1e-12));
                    } else {
                        // idle, bubble, queue depth, memory, bytes: the same bits however the step was cut
                        assertThat(b.value()).as(a.name() + a.labels()).isEqualTo(a.value());
                    }
                }
            }
        }
        assertThat(byStream.get(0).get(3).value("pipelab_link_queue_depth", Map.of("link", "0->1")))
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void aLateBatchStillAddsUpAtTheNextStepEnd() {
        SyntheticRun run = new SyntheticRun(3, 2, 3, 0.2, 0.5, 9);
        List<Event> step0 = new ArrayList<>(run.nextStep());
        List<Event> step1 = run.nextStep();
        // the last compute batch of step 0 arrives after its StepEnded, while step 1 runs
        int lateAt = step0.size() - 2;
        while (!(step0.get(lateAt) instanceof RankActivity batch && batch.actions() > 0)) lateAt--;
        RankActivity late = (RankActivity) step0.remove(lateAt);
        List<Event> events = new ArrayList<>(step0);
        events.add(step1.get(0));
        events.add(late);
        events.addAll(step1.subList(1, step1.size()));

        Metrics metrics = new Metrics(run.info(), "test");
        Map<String, Double> previous = new HashMap<>();
        for (Event e : events) {
            metrics.emit(e);
            checkMonotonic(PromText.parse(metrics.scrape()), previous);
        }
        PromText text = PromText.parse(metrics.scrape());
        Event.StepEnded ended = (Event.StepEnded) step1.get(step1.size() - 1);
        for (int replica = 0; replica < 2; replica++) {
            for (int stage = 0; stage < 3; stage++) {
                String st = "" + stage;
                String rp = "" + replica;
                double busy = text.named("pipelab_stage_busy_seconds_total").stream()
                        .filter(s -> s.labels().get("stage").equals(st) && s.labels().get("replica").equals(rp))
                        .mapToDouble(PromText.Sample::value).sum();
                double idle = text.value("pipelab_stage_idle_seconds_total", Map.of("stage", st, "replica", rp));
                assertThat(busy + idle).as("stage %d replica %d", stage, replica)
                        .isCloseTo(ended.runSeconds(), within(1e-9));
            }
        }
        // the late batch's compute is in its rank's busy seconds
        double computed = Events.details(events).stream()
                .filter(x -> x instanceof Event.ActionSpan span && span.rank() == late.rank()
                        && span.replica() == late.replica())
                .mapToDouble(x -> ((Event.ActionSpan) x).seconds()).sum();
        double counted = text.named("pipelab_stage_busy_seconds_total").stream()
                .filter(s -> s.labels().get("stage").equals("" + late.rank())
                        && s.labels().get("replica").equals("" + late.replica()))
                .mapToDouble(PromText.Sample::value).sum();
        assertThat(counted).isCloseTo(computed, within(1e-12));
    }

    @Test
    void theLossGaugeAppearsWithTheFirstLossAndShowsTheLatestStepsLoss() {
        SyntheticRun run = new SyntheticRun(2, 1, 2, 0.5, 0.2, 1);
        Metrics metrics = new Metrics(run.info(), "test");
        run.steps(1).forEach(metrics::emit);
        PromText emulated = PromText.parse(metrics.scrape());
        assertThat(emulated.types).doesNotContainKey("pipelab_training_loss"); // no loss: no gauge that claims one
        metrics.emit(new Event.StepLoss(0, 2.25));
        metrics.emit(new Event.StepLoss(2, 1.5));
        metrics.emit(new Event.StepLoss(1, 1.75)); // late: an earlier step's loss does not replace the latest
        PromText text = PromText.parse(metrics.scrape());
        assertThat(text.types).containsEntry("pipelab_training_loss", "gauge");
        assertThat(text.value("pipelab_training_loss", Map.of())).isEqualTo(1.5);
        assertThat(text.named("pipelab_training_loss")).hasSize(1);
    }

    @Test
    void theMemoryGaugeShowsTheLatestChangeByStepThenTimeTiesToTheLaterOne() {
        SyntheticRun shape = new SyntheticRun(2, 1, 1, 1, 0, 1);
        Metrics metrics = new Metrics(shape.info(), "test");
        Map<String, String> rank1 = Map.of("stage", "1", "replica", "0");
        metrics.emit(memory(0, new double[][] {{1.0, 100}, {2.0, 300}, {2.0, 200}, {1.5, 400}}));
        assertThat(PromText.parse(metrics.scrape()).value("pipelab_stage_memory_bytes", rank1)).isEqualTo(200);
        metrics.emit(memory(0, new double[][] {{1.9, 50}}));
        assertThat(PromText.parse(metrics.scrape()).value("pipelab_stage_memory_bytes", rank1)).isEqualTo(200);
        metrics.emit(memory(0, new double[][] {{1.9, 60}, {2.0, 70}}));
        assertThat(PromText.parse(metrics.scrape()).value("pipelab_stage_memory_bytes", rank1)).isEqualTo(70);
        metrics.emit(memory(1, new double[][] {{0.1, 10}}));
        metrics.emit(memory(0, new double[][] {{5.0, 20}}));
        PromText text = PromText.parse(metrics.scrape());
        assertThat(text.value("pipelab_stage_memory_bytes", rank1)).isEqualTo(10);
        assertThat(text.value("pipelab_stage_peak_memory_bytes", rank1)).isEqualTo(400);
        assertThat(text.named("pipelab_stage_memory_bytes")).hasSize(1); // rank 0 never changed
    }

    @Test
    void queueDepthCountsWaitsOfAllSlicesOfAStepAndTheDeepestReplica() {
        SyntheticRun shape = new SyntheticRun(2, 2, 1, 1, 0, 1);
        Metrics metrics = new Metrics(shape.info(), "test");
        metrics.emit(new Event.StepStarted(0, 0, 0, 1));
        // replica 0: waits [0,2) and [1,3) in one slice, [1.5,4) in the next: three at once at 1.5
        metrics.emit(transfers(0, 0, new double[][] {{0, 2}, {1, 3}}));
        metrics.emit(transfers(0, 0, new double[][] {{1.5, 4}, {5, 5}}));
        // replica 1: a wait that ends where the next begins does not stack on it
        metrics.emit(transfers(0, 1, new double[][] {{0, 1}, {1, 2}, {2, 3}}));
        metrics.emit(new Event.StepEnded(0, 10, 10, 0));
        PromText text = PromText.parse(metrics.scrape());
        assertThat(text.value("pipelab_link_queue_depth", Map.of("link", "0->1"))).isEqualTo(3);
        assertThat(text.value("pipelab_link_transferred_bytes_total", Map.of("link", "0->1"))).isEqualTo(700);

        // the next step: only replica 1's chain, so depth 1; a late transfer of step 0 is counted in bytes only
        metrics.emit(new Event.StepStarted(1, 10, 0, 1));
        metrics.emit(transfers(1, 1, new double[][] {{0, 1}, {1, 2}}));
        metrics.emit(transfers(0, 0, new double[][] {{0, 9}, {0, 9}, {0, 9}, {0, 9}}));
        metrics.emit(new Event.StepEnded(1, 10, 20, 0));
        text = PromText.parse(metrics.scrape());
        assertThat(text.value("pipelab_link_queue_depth", Map.of("link", "0->1"))).isEqualTo(1);
        assertThat(text.value("pipelab_link_transferred_bytes_total", Map.of("link", "0->1"))).isEqualTo(1300);
    }

    @Test
    void aBatchOfARankOutsideTheRunIsRefused() {
        Metrics metrics = new Metrics(new SyntheticRun(2, 2, 1, 1, 0, 1).info(), "test");
        RankActivity.Recorder r = new RankActivity.Recorder(0, 2);
        r.action(Phase.F, 0, 0, 0, 1, 1);
        assertThatThrownBy(() -> metrics.emit(r.take(0))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("replica 0 rank 2 outside d=2 p=2");
    }

    /** Memory changes of rank 1, replica 0: (time, bytes) pairs in the order given. */
    private static RankActivity memory(int step, double[][] changes) {
        RankActivity.Recorder r = new RankActivity.Recorder(0, 1);
        for (double[] c : changes) r.memory(c[0], (long) c[1]);
        return r.take(step);
    }

    /** Link 0->1 of {@code replica}: one 100-byte transfer per (ready, start) pair. */
    private static LinkActivity transfers(int step, int replica, double[][] waits) {
        LinkActivity.Recorder r = new LinkActivity.Recorder(replica, 0, 1);
        for (double[] w : waits) r.transfer("activation", 0, 0, 100, w[0], w[1], w[1] + 0.5);
        return r.take(step);
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
