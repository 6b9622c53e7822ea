package dev.pipelab.observe;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pipelab.monitoring.metrics.PromText;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code /metrics} of a real wall-clock {@code pipelab run} (the quickstart scenario: the cost model, links that cost
 * time, recomputation and an optimizer phase), scraped while the actors run and once after the last step (the run
 * serves on with {@code --serve}). Every counter only grows between scrapes; the documented families and labels are
 * there; at the end busy + idle seconds of every (stage, replica) add up to the emulated run time, the sum of the
 * step times in report.json.
 */
class MetricsLiveRunIT {

    private static final int STEPS = 6;

    @Test
    void countersGrowAndBusyPlusIdleIsTheRunTime(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        HttpClient http = HttpClient.newHttpClient();
        List<PromText> during = new ArrayList<>();
        PromText after;
        // quickstart: ~0.19 emulated s a step; speed 0.2 makes a step ~1 s of wall time
        try (E2e.LiveRun run = new E2e.LiveRun("run", E2e.SCENARIOS.resolve("quickstart.yaml").toString(), "--clock", "wall",
                "--speed", "0.2", "--steps", Integer.toString(STEPS), "--port", "0", "--out", out.toString(), "--serve")) {
            URI metrics = run.dashboard().resolve("/metrics");
            while (!run.out().contains("serving the finished run")) {
                try {
                    during.add(PromText.parse(E2e.get(http, metrics)));
                } catch (IOException e) {
                    if (!run.done()) throw e;
                }
                if (run.done()) break;
                Thread.sleep(400);
            }
            run.awaitOutput(o -> o.contains("serving the finished run"));
            after = PromText.parse(E2e.get(http, metrics));
            assertThat(run.stop()).as(run.toString()).isZero();
        }

        // scrapes while the run proceeded: at least two that saw different numbers of completed steps
        Set<Double> stepsSeen = during.stream().map(s -> total(s, "pipelab_steps_total")).collect(Collectors.toSet());
        assertThat(stepsSeen).as("steps_total seen while running").hasSizeGreaterThanOrEqualTo(2);

        assertThat(during).as("scrapes while the run proceeded").hasSizeGreaterThanOrEqualTo(3);

        List<PromText> all = new ArrayList<>(during);
        all.add(after);
        for (int i = 1; i < all.size(); i++) assertMonotonic(all.get(i - 1), all.get(i), i);

        // the metric names users rely on: prefix pipelab_, labels from a small fixed set (never a micro-batch), _ratio within 0..1
        for (PromText scrape : all) {
            for (PromText.Sample sample : scrape.samples()) {
                assertThat(sample.name()).startsWith("pipelab_");
                assertThat(sample.labels().keySet()).as(sample.name())
                        .isSubsetOf("stage", "replica", "link", "phase", "le", "kind", "version");
                if (sample.name().endsWith("_ratio")) assertThat(sample.value()).as(sample.name()).isBetween(0.0, 1.0);
            }
        }

        // families, types and labels
        // (the 0.0.4 text format names counters' TYPE lines with _total and exposes an info as a gauge)
        assertThat(after.types()).containsEntry("pipelab_stage_busy_seconds_total", "counter")
                .containsEntry("pipelab_stage_idle_seconds_total", "counter")
                .containsEntry("pipelab_link_transferred_bytes_total", "counter")
                .containsEntry("pipelab_link_stall_seconds_total", "counter")
                .containsEntry("pipelab_steps_total", "counter")
                .containsEntry("pipelab_step_duration_seconds", "histogram")
                .containsEntry("pipelab_bubble_ratio", "gauge")
                .containsEntry("pipelab_run_seconds", "gauge")
                .containsEntry("pipelab_stage_memory_bytes", "gauge")
                .containsEntry("pipelab_build_info", "gauge");
        for (PromText.Sample s : after.named("pipelab_stage_busy_seconds_total")) {
            assertThat(s.labels()).containsOnlyKeys("stage", "replica", "phase");
            assertThat(s.labels().get("phase")).isIn("F", "B", "W", "R", "OPT");
        }
        Set<String> phases = after.named("pipelab_stage_busy_seconds_total").stream().map(s -> s.labels().get("phase"))
                .collect(Collectors.toSet());
        assertThat(phases).contains("F", "B", "R", "OPT"); // quickstart recomputes (selective) and runs Adam
        Set<String> stages = after.named("pipelab_stage_busy_seconds_total").stream().map(s -> s.labels().get("stage"))
                .collect(Collectors.toSet());
        assertThat(stages).containsExactlyInAnyOrder("0", "1", "2", "3");
        assertThat(after.named("pipelab_stage_idle_seconds_total")).hasSize(4)
                .allSatisfy(s -> assertThat(s.labels()).containsOnlyKeys("stage", "replica"));
        assertThat(after.named("pipelab_link_transferred_bytes_total")).extracting(s -> s.labels().get("link"))
                .containsExactlyInAnyOrder("0->1", "1->2", "2->3", "1->0", "2->1", "3->2");
        assertThat(after.named("pipelab_link_transferred_bytes_total")).allSatisfy(s -> assertThat(s.value()).isPositive());
        assertThat(after.value("pipelab_step_duration_seconds_count", Map.of())).isEqualTo(STEPS);
        assertThat(after.named("pipelab_step_duration_seconds_bucket")).isNotEmpty()
                .allSatisfy(s -> assertThat(s.labels()).containsOnlyKeys("le"));
        assertThat(after.value("pipelab_steps_total", Map.of())).isEqualTo(STEPS);
        assertThat(after.value("pipelab_bubble_ratio", Map.of())).isStrictlyBetween(0.0, 1.0);
        assertThat(after.named("pipelab_build_info")).hasSize(1);
        assertThat(after.named("pipelab_build_info").get(0).labels()).containsKey("version");
        assertThat(after.named("pipelab_build_info").get(0).value()).isEqualTo(1.0);

        // busy + idle per (stage, replica) = the emulated run time, the sum of the step times
        JsonNode report = E2e.JSON.readTree(out.resolve("report.json").toFile());
        assertThat(report.get("completedSteps").asInt()).isEqualTo(STEPS);
        double elapsed = 0;
        for (JsonNode step : report.get("steps")) elapsed += step.get("stepTimeSeconds").asDouble();
        assertThat(after.value("pipelab_run_seconds", Map.of())).isCloseTo(elapsed, withinRelative(elapsed));
        assertThat(after.value("pipelab_step_duration_seconds_sum", Map.of())).isCloseTo(elapsed, withinRelative(elapsed));
        Map<String, Double> busy = new TreeMap<>();
        for (PromText.Sample s : after.named("pipelab_stage_busy_seconds_total")) {
            busy.merge(s.labels().get("stage") + "/" + s.labels().get("replica"), s.value(), Double::sum);
        }
        for (PromText.Sample s : after.named("pipelab_stage_idle_seconds_total")) {
            String key = s.labels().get("stage") + "/" + s.labels().get("replica");
            double sum = busy.getOrDefault(key, 0.0) + s.value();
            assertThat(sum).as("busy + idle of stage/replica " + key).isCloseTo(elapsed, withinRelative(elapsed));
            assertThat(busy.getOrDefault(key, 0.0)).as("busy of " + key).isPositive();
        }
    }

    private static Offset<Double> withinRelative(double value) {
        return Offset.offset(1e-9 * Math.abs(value));
    }

    private static double total(PromText s, String name) {
        return s.named(name).stream().mapToDouble(PromText.Sample::value).sum();
    }

    /** Every counter sample (and histogram count and sum) of {@code before} is still there and has not shrunk. */
    private static void assertMonotonic(PromText before, PromText now, int index) {
        Map<String, Double> seen = new HashMap<>();
        for (PromText.Sample s : now.samples()) seen.put(s.name() + s.labels(), s.value());
        for (PromText.Sample s : before.samples()) {
            String family = family(before, s.name());
            boolean growing = "counter".equals(family) || ("histogram".equals(before.types().get(stripHistogram(s.name()))));
            if (!growing) continue;
            Double later = seen.get(s.name() + s.labels());
            assertThat(later).as("scrape " + index + " still has " + s.name() + s.labels()).isNotNull();
            assertThat(later).as("scrape " + index + ": " + s.name() + s.labels() + " only grows").isGreaterThanOrEqualTo(s.value());
        }
    }

    private static String family(PromText s, String sample) {
        String type = s.types().get(sample);
        return type != null ? type : s.types().get(sample + "_total");
    }

    private static String stripHistogram(String sample) {
        for (String suffix : List.of("_bucket", "_count", "_sum")) {
            if (sample.endsWith(suffix)) return sample.substring(0, sample.length() - suffix.length());
        }
        return sample;
    }
}
