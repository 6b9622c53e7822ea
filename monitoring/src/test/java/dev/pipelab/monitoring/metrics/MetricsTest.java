package dev.pipelab.monitoring.metrics;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunAggregate;
import dev.pipelab.monitoring.StepStats;
import dev.pipelab.monitoring.synthetic.SyntheticRun;
import org.junit.jupiter.api.Test;

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
