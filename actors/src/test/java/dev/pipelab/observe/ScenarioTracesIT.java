package dev.pipelab.observe;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.trace.TraceCheck;
import dev.pipelab.monitoring.trace.TraceWriter;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every shipped scenario ({@code scenarios/*.yaml}) as a real virtual-time run: the three outputs, nothing half
 * written, and a {@code trace.json} that {@link TraceCheck} finds sound, whose compute slices per (replica, rank)
 * add up to the busy seconds of report.json. Two steps each, so the 80-stage scenario (80 micro-batches) stays a
 * few seconds; two, not one, so that the trace's step boundaries and the per-step means of report.json are exercised.
 */
class ScenarioTracesIT {

    private static final int STEPS = 2;

    static Stream<Path> scenarios() throws IOException {
        try (Stream<Path> s = Files.list(E2e.SCENARIOS)) {
            List<Path> all = s.filter(p -> p.getFileName().toString().endsWith(".yaml")).sorted().toList();
            assertThat(all).as("shipped scenarios in " + E2e.SCENARIOS).hasSizeGreaterThanOrEqualTo(7);
            return all.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void runWritesASoundTraceWhoseComputeIsTheReportedBusyTime(Path scenario, @TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        E2e.Result r = E2e.pipelab("run", scenario.toString(), "--clock", "virtual", "--no-dashboard", "--quiet",
                "--steps", Integer.toString(STEPS), "--out", out.toString());
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out().strip()).isEqualTo(out.toString()); // --quiet prints only the folder
        // a real-numerics scenario also saves its final weights
        boolean real = Files.readString(scenario).contains("numerics: real");
        assertThat(E2e.filesIn(out)).containsExactlyElementsOf(real
                ? List.of("report.html", "report.json", "trace.json", "weights.plwt")
                : List.of("report.html", "report.json", "trace.json"));

        JsonNode report = E2e.JSON.readTree(out.resolve("report.json").toFile());
        assertThat(report.get("completedSteps").asInt()).isEqualTo(STEPS);
        assertThat(report.get("clock").asText()).isEqualTo("virtual");
        // the report.json keys users rely on (a stable interface)
        assertThat(fieldNames(report)).contains("stepTimeSeconds", "bubbleFraction", "samplesPerSecond", "tokensPerSecond",
                "mfu", "memory", "stages", "steps", "faults", "recovery", "wallClock");
        assertThat(fieldNames(report.get("memory"))).contains("parametersBytes", "gradientsBytes", "optimizerBytes",
                "activationsBytes", "totalBytes");
        assertThat(report.get("stages")).hasSize(report.at("/plan/pipeline").asInt()).allSatisfy(stage -> assertThat(
                fieldNames(stage)).contains("index", "layers", "busyFraction", "peakMemoryBytes", "peakInFlightMicrobatches"));
        assertThat(report.get("steps")).hasSize(STEPS);
        Map<Integer, Double> busyMicros = busyMicrosByPid(report);
        assertThat(busyMicros).hasSize(report.at("/plan/pipeline").asInt() * report.at("/plan/data").asInt());
        assertThat(busyMicros.values()).allSatisfy(v -> assertThat(v).isPositive());

        // at the steps level (a scenario of thousands of stages) the trace has no compute slices to add up: only its
        // structure is checked
        boolean spans = !dev.pipelab.scenario.ScenarioLoader.load(scenario).telemetry().level().equals("steps");
        List<String> problems = TraceCheck.check(out.resolve("trace.json"), spans ? busyMicros : Map.of());
        assertThat(problems).as("TraceCheck of " + scenario.getFileName()).isEmpty();
        assertThat(Files.readString(out.resolve("report.html"))).contains("<html").contains(report.get("name").asText());
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /**
     * Compute microseconds per trace pid from report.json: {@code stages[].busySecondsByPhase} are seconds per step
     * (means over replicas), so with one replica a rank's busy time is their sum × completed steps; with more,
     * each replica's {@code busyFraction} × run seconds.
     */
    static Map<Integer, Double> busyMicrosByPid(JsonNode report) {
        int d = report.at("/plan/data").asInt();
        int steps = report.get("completedSteps").asInt();
        double runSeconds = report.get("runSeconds").asDouble();
        RunInfo info = shape(report);
        Map<Integer, Double> busy = new HashMap<>();
        for (JsonNode stage : report.get("stages")) {
            int rank = stage.get("index").asInt();
            if (d == 1) {
                double perStep = 0;
                for (JsonNode phase : stage.get("busySecondsByPhase")) perStep += phase.asDouble();
                busy.put(TraceWriter.pid(info, 0, rank), perStep * steps * 1e6);
            } else {
                for (JsonNode replica : stage.get("replicas")) {
                    busy.put(TraceWriter.pid(info, replica.get("replica").asInt(), rank), replica.get("busyFraction").asDouble() * runSeconds * 1e6);
                }
            }
        }
        return busy;
    }

    /** The run's shape as report.json states it (what {@link TraceWriter#pid} reads); flops and bytes are placeholders. */
    private static RunInfo shape(JsonNode report) {
        JsonNode plan = report.get("plan");
        List<Integer> layers = new ArrayList<>();
        for (JsonNode stage : report.get("stages")) layers.add(stage.get("layers").asInt());
        int p = plan.get("pipeline").asInt();
        return new RunInfo(report.get("name").asText(), report.get("schedule").asText(), p, plan.get("data").asInt(),
                plan.get("tensor").asInt(), plan.get("virtualStages").asInt(), plan.get("microBatchSize").asInt(),
                plan.get("microBatches").asInt(), plan.get("seqLength").asInt(), 0, 0, 1, 1, layers,
                Collections.nCopies(p, 0L));
    }
}
