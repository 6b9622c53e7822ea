package dev.pipelab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.plan.Search;
import dev.pipelab.scenario.ScenarioLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line as a user meets it: exit codes, the article's numbers, and no stack trace for a mistake. */
class CliTest {

    /** Surefire runs in the module folder; the shipped scenarios are one level up. */
    static final Path SCENARIOS = Path.of("..", "scenarios");

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    static String scenario(String name) {
        return SCENARIOS.resolve(name).toString();
    }

    @Test
    void planPrintsTheArticlesMemoryArithmetic() {
        Result r = run("plan", scenario("llama2-70b-article.yaml"));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("parameters           140.0 GB", "gradients            140.0 GB",
                "optimizer            840.0 GB", "activations          730.1 GB", "total              1,850.1 GB",
                "minimum devices  24 x 80.0 GB (a100-80gb); 78 x 24.0 GB");
    }

    @Test
    void planSaysWhichJvmsWillHostTheStagesAndThatItChangesNoNumber() {
        Result pack = run("plan", scenario("quickstart.yaml"));
        assertThat(pack.code()).as(pack.err()).isZero();
        assertThat(pack.out()).contains("\nJVMs      placement pack with pipelab run --cluster (decided at run time from the "
                + "workers' slots; never changes these numbers)\n");

        Path explicit = Path.of("src", "test", "resources", "scenarios", "good", "explicit-placement.yaml");
        Result mapped = run("plan", explicit.toString());
        assertThat(mapped.code()).as(mapped.err()).isZero();
        assertThat(mapped.out()).contains("\nJVMs      placement explicit with pipelab run --cluster, worker index per rank "
                + "(workers in address order): replica 0 -> 0 0 1, replica 1 -> 2 2 1 (never changes these numbers)\n");
        // the JVM placement changes no number: the plan below the line is the same under spread
        Result spread = run("plan", "--set", "cluster.placement=spread", explicit.toString());
        assertThat(spread.out()).contains("placement spread with pipelab run --cluster",
                "; cluster.workers is used only with --placement explicit\n");
        assertThat(withoutJvmLine(spread.out())).isEqualTo(withoutJvmLine(mapped.out()));
    }

    private static String withoutJvmLine(String planText) {
        return planText.lines().filter(l -> !l.startsWith("JVMs ")).toList().toString();
    }

    @Test
    void planJsonCarriesTheArticlesNumbersExactly() throws IOException {
        Result r = run("plan", "--json", scenario("llama2-70b-article.yaml"));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode memory = new ObjectMapper().readTree(r.out()).get("memory");
        assertThat(memory.get("parametersBytes").asLong()).isEqualTo(140_000_000_000L);
        assertThat(memory.get("gradientsBytes").asLong()).isEqualTo(140_000_000_000L);
        assertThat(memory.get("optimizerBytes").asLong()).isEqualTo(840_000_000_000L);
        assertThat(memory.get("activationsBytes").asLong()).isEqualTo(4096L * 8 * 8192 * 80 * 34);
        assertThat(memory.get("totalBytes").asLong()).isEqualTo(1_120_000_000_000L + 4096L * 8 * 8192 * 80 * 34);
        assertThat(memory.get("minDevices").asLong()).isEqualTo(24);
    }

    @Test
    void planJsonHasTheReportFields() throws IOException {
        JsonNode report = new ObjectMapper().readTree(run("plan", "--json", scenario("1f1b-4x8.yaml")).out());
        assertThat(report.fieldNames()).toIterable().contains("stepTimeSeconds", "bubbleFraction", "samplesPerSecond",
                "tokensPerSecond", "mfu", "memory", "stages", "steps", "faults");
        assertThat(report.get("stages").get(0).fieldNames()).toIterable()
                .contains("index", "layers", "busyFraction", "peakMemoryBytes", "peakInFlightMicrobatches");
    }

    /** plan --json carries every rank's memory lines; they sum to the rank's peak (docs/memory.md). */
    @Test
    void planJsonHasThePeakMemoryLinesOfEveryRank() throws IOException {
        JsonNode report = new ObjectMapper().readTree(run("plan", "--json", scenario("megatron-memory.yaml")).out());
        JsonNode lines = report.get("peakMemoryLines");
        assertThat(lines).hasSize(2);
        for (int r = 0; r < 2; r++) {
            long sum = 0;
            for (JsonNode line : lines.get(r).get("lines")) sum += line.get("bytes").asLong();
            assertThat(lines.get(r).get("rank").asInt()).isEqualTo(r);
            assertThat(sum).isEqualTo(lines.get(r).get("totalBytes").asLong())
                    .isEqualTo(report.get("stages").get(r).get("peakMemoryBytes").asLong());
        }
    }

    @Test
    void planPrintsPeakMemoryLineByLine() {
        Result r = run("plan", scenario("megatron-memory.yaml"));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("Peak memory per GPU, line by line (ZeRO 1 (distributed optimizer); memory complete",
                "  optimizer state          3.515 GB      3.515 GB   12 B per parameter / d (d=4)",
                "  peak                    14.046 GB     13.032 GB   * the fullest rank");
    }

    @Test
    void textbookSchedulesGiveTheirExactBubbleAndInFlight() throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode gpipe = json.readTree(run("plan", "--json", scenario("gpipe-4x8.yaml")).out());
        JsonNode ofob = json.readTree(run("plan", "--json", scenario("1f1b-4x8.yaml")).out());
        JsonNode inter = json.readTree(run("plan", "--json", scenario("interleaved-4x8.yaml")).out());
        assertThat(gpipe.get("bubbleFraction").asDouble()).isEqualTo(3.0 / 11);
        assertThat(ofob.get("bubbleFraction").asDouble()).isEqualTo(3.0 / 11);
        assertThat(inter.get("bubbleFraction").asDouble()).isEqualTo(3.0 / 19);
        assertThat(inFlight(gpipe)).containsExactly(8, 8, 8, 8);
        assertThat(inFlight(ofob)).containsExactly(4, 3, 2, 1);
    }

    private static List<Integer> inFlight(JsonNode report) {
        return Stream.iterate(0, i -> i < report.get("stages").size(), i -> i + 1)
                .map(i -> report.get("stages").get(i).get("peakInFlightMicrobatches").asInt()).toList();
    }

    @Test
    void eightyStagesShowTheArticlesPerStageArithmetic() {
        Result r = run("plan", scenario("article-80-stages.yaml"));
        assertThat(r.code()).as(r.err()).isZero();
        // 6 x ~1e9 x 8 x 4096 ≈ 196 TFLOP, ≈0.6 s at 330 TFLOP/s, 4 GB of fp32 gradients ≥ 0.12 s over PCIe Gen4
        assertThat(r.out()).containsPattern("6 x N x tokens = 19[5-7]\\.\\d TFLOP per micro-batch -> 59\\d\\.\\d+ ms at 100% of 330 TFLOP/s");
        assertThat(r.out()).containsPattern("gradient traffic 4\\.0 GB over pcie4 at 32\\.0 GB/s = 12\\d\\.\\d+ ms per pass");
        assertThat(r.out()).contains("activation stash 80 micro-batches in flight on rank 0");
        assertThat(r.out()).contains("to fill          m >= p = 80 micro-batches of b=8: a global batch of at least 640 sequences");
    }

    @Test
    void everyShippedScenarioValidates() throws IOException {
        try (Stream<Path> files = Files.list(SCENARIOS)) {
            List<Path> all = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
            assertThat(all).hasSizeGreaterThanOrEqualTo(7);
            for (Path f : all) {
                Result r = run("validate", f.toString());
                assertThat(r.code()).as(f + ": " + r.err()).isZero();
                assertThat(r.out()).contains(": ok (");
            }
        }
    }

    static Stream<Path> badFiles() throws IOException {
        Path root = Path.of("src", "test", "resources", "scenarios");
        return Stream.concat(Files.list(root.resolve("bad")), Files.list(root.resolve("bad-plan")))
                .filter(f -> !f.toString().endsWith(".schedule")).sorted();
    }

    @ParameterizedTest
    @MethodSource("badFiles")
    void everyMalformedScenarioGivesALocatedMessageAndExitTwo(Path file) {
        for (String command : List.of("validate", "plan", "schedule")) {
            Result r = run(command, file.toString());
            assertThat(r.code()).as(command + " " + file + "\n" + r.err()).isEqualTo(2);
            assertThat(r.out()).isEmpty();
            assertThat(r.err()).doesNotContain("\tat ", "Exception").isNotBlank();
            // every problem line names the key path it concerns
            assertThat(r.err().lines().findFirst().orElseThrow()).containsPattern("[a-zA-Z)\\]]+: ");
        }
    }

    @Test
    void planningErrorsNameTheirKey() {
        Path bad = Path.of("src", "test", "resources", "scenarios", "bad-plan");
        assertThat(run("plan", bad.resolve("pipeline-exceeds-preset-layers.yaml").toString()).err())
                .contains("parallelism.pipeline: 40 stages exceed the model's 32 layers");
        assertThat(run("plan", bad.resolve("tensor-not-dividing-heads.yaml").toString()).err())
                .contains("parallelism.tensor: 5 must divide the model's 12 attention heads");
        assertThat(run("plan", bad.resolve("interleaved-m-not-multiple.yaml").toString()).err())
                .contains("training.schedule: interleaved needs microBatches (10) to be a multiple of pipeline (4)");
        Result broken = run("plan", bad.resolve("custom-broken-schedule.yaml").toString());
        assertThat(broken.err()).contains("training.schedule: the custom schedule is not valid", "[1B1]");
    }

    @Test
    void flagsAndOverridesAreCheckedToo() {
        assertThat(run("plan", "--no-such-flag", scenario("quickstart.yaml")).code()).isEqualTo(2);
        assertThat(run("plan", "no/such/file.yaml").code()).isEqualTo(2);
        Result r = run("plan", "--set", "parallelism.pipeline=0", "--device", "nope", scenario("quickstart.yaml"));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("parallelism.pipeline: must be >= 1, got 0 (from --set parallelism.pipeline=0)",
                "hardware.device: must be one of", "got 'nope' (from --set hardware.device=nope)");
        assertThat(run("plan", "--device", "h100-80gb", scenario("quickstart.yaml")).out()).contains("hardware  h100-80gb");
    }

    @Test
    void aTelemetryLevelIsOneOfTheFour() {
        Result flag = run("run", "--telemetry", "loud", "--no-dashboard", scenario("quickstart.yaml"));
        assertThat(flag.code()).isEqualTo(2);
        assertThat(flag.err()).contains("--telemetry must be off, steps or spans, got 'loud'");
        Result key = run("plan", "--set", "telemetry.level=loud", scenario("quickstart.yaml"));
        assertThat(key.code()).isEqualTo(2);
        assertThat(key.err()).contains("telemetry.level: must be one of auto, off, steps, spans, got 'loud'");
        assertThat(run("plan", "--set", "telemetry.level=steps", scenario("quickstart.yaml")).code()).isZero();
    }

    @Test
    void scheduleCommandPrintsOneRowPerRank() {
        Result r = run("schedule", scenario("1f1b-4x8.yaml"));
        assertThat(r.code()).isZero();
        assertThat(r.out().lines().filter(l -> l.startsWith("rank "))).hasSize(4);
        assertThat(r.out()).contains("rank 3 | 3F0 3B0 3F1 3B1");
    }

    @Test
    void searchRanksPlansThatFitAndSaysWhyTheOthersLost() {
        Result r = run("search", "--set", "parallelism.pipeline=2", "--set", "parallelism.data=4", scenario("quickstart.yaml"));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("on 8 devices", "fastest plan that fits", "Why the other");
        assertThat(r.out()).containsPattern("\\n +memory +\\d+");
    }

    @Test
    void searchCountsTheAutomaticZeroBubblePlansApartAndSumsUpEachSchedule() {
        Result r = run("search", scenario("quickstart.yaml"));
        assertThat(r.code()).as(r.err()).isZero();
        Search.Result expected = Search.run(ScenarioLoader.load(SCENARIOS.resolve("quickstart.yaml")));
        assertThat(expected.automatic()).isPositive();
        assertThat(r.out()).contains(String.format(java.util.Locale.ROOT, "\n%d candidate plans + %d automatic zero-bubble plans "
                + "(zb-1p and zb-2p, each recompute, at %d finalist shapes: the fastest %d of zb-h1 and of zb-h2) evaluated in ",
                expected.evaluated(), expected.automatic(), expected.finalists(), Search.FINALISTS));
        String summary = r.out().substring(r.out().indexOf("\nBest of each schedule\n"), r.out().indexOf("\nWhy the other"));
        for (Search.ScheduleSummary s : expected.bySchedule()) {
            // one line per schedule: its name, its counts, its best plan and the reason it lost
            assertThat(summary.lines().filter(l -> l.startsWith(String.format("  %-11s %6d %6d  %s ", s.schedule(), s.candidates(),
                    s.fitting(), s.best().candidate().label())) && l.endsWith("  " + s.why()))).as(s.schedule()).hasSize(1);
        }
    }

    @Test
    void sweepPrintsOneRowPerValue() {
        Result r = run("sweep", scenario("depth-sweep.yaml"), "--over", "parallelism.pipeline=2,4,8");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().filter(l -> l.matches("\\s+[248] .*"))).hasSize(3);
    }
}
