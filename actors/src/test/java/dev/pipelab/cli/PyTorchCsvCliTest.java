package dev.pipelab.cli;

import static dev.pipelab.cli.CliTest.run;
import static dev.pipelab.cli.CliTest.scenario;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.cli.CliTest.Result;
import dev.pipelab.schedule.PyTorchCsv;
import dev.pipelab.schedule.VSchedules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** {@code pipelab schedule --format pytorch-csv} and a scenario whose {@code training.scheduleFile} is a .csv. */
class PyTorchCsvCliTest {

    @TempDir
    Path dir;

    /** 1f1b-4x8.yaml's model, hardware and profiled costs with ZB-V's two stages per rank. */
    private static final String[] ZB_V = {"--set", "training.schedule=zb-v", "--set", "parallelism.virtualStages=2",
            "--set", "costs.backwardWeightSeconds=1.0"};

    private static String[] args(String command, String[] extra, String... more) {
        List<String> all = new java.util.ArrayList<>(List.of(command));
        all.addAll(List.of(extra));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    /** A scenario beside {@code csv} that reads it as its schedule, with the shape and costs of ZB_V above. */
    private Path scenarioReading(String csvName, String csv) throws IOException {
        Files.writeString(dir.resolve(csvName), csv);
        Path yaml = dir.resolve(csvName.replace(".csv", ".yaml"));
        Files.writeString(yaml, """
                name: from-pytorch
                model: { preset: gpt3-1.3b }
                hardware: { device: a100-80gb, intraNode: free, interNode: free }
                parallelism: { pipeline: 4, virtualStages: 2 }
                batch: { microBatchSize: 1, microBatches: 8 }
                training: { schedule: custom, scheduleFile: %s }
                costs: { forwardSeconds: 1.0, backwardInputSeconds: 2.0, backwardWeightSeconds: 1.0, optimizerSeconds: 0.0 }
                """.formatted(csvName));
        return yaml;
    }

    @Test
    void scheduleWritesTheCsvPyTorchLoads() {
        Result r = run(args("schedule", ZB_V, "--format", "pytorch-csv", scenario("1f1b-4x8.yaml")));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).isEqualTo(PyTorchCsv.format(VSchedules.zbV(4, 8)));
        // one line per rank, rank 0 holding stages 0 and 7 (the V)
        assertThat(r.out().lines()).hasSize(4);
        assertThat(r.out().lines().findFirst().orElseThrow()).startsWith("0F0,").contains(",7F0,", ",7I0,", ",7W0,");
    }

    @Test
    void aScenarioReadsTheCsvBackAndPlansTheSameStep() throws IOException {
        String csv = run(args("schedule", ZB_V, "--format", "pytorch-csv", scenario("1f1b-4x8.yaml"))).out();
        Path yaml = scenarioReading("zbv.csv", csv);

        Result text = run("schedule", "--text", yaml.toString());
        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.out()).startsWith("# name=custom p=4 v=2 m=8 split=true placement=v\n");
        assertThat(run("schedule", "--format", "pytorch-csv", yaml.toString()).out()).isEqualTo(csv);

        Result fromCsv = run("plan", "--json", yaml.toString());
        Result named = run(args("plan", ZB_V, "--json", scenario("1f1b-4x8.yaml")));
        assertThat(fromCsv.code()).as(fromCsv.err()).isZero();
        assertThat(named.code()).as(named.err()).isZero();
        JsonNode a = new ObjectMapper().readTree(fromCsv.out());
        JsonNode b = new ObjectMapper().readTree(named.out());
        assertThat(a.get("stepTimeSeconds").asDouble()).isPositive().isEqualTo(b.get("stepTimeSeconds").asDouble());
        assertThat(a.get("bubbleFraction").asDouble()).isEqualTo(b.get("bubbleFraction").asDouble());
    }

    @Test
    void aMalformedCsvGivesALocatedMessageAndExitTwo() throws IOException {
        Path yaml = scenarioReading("bad.csv", "0F0,0F1\n1F0,1X0\n");
        String csvPath = dir.resolve("bad.csv").toString();
        for (String command : List.of("validate", "plan", "schedule")) {
            Result r = run(command, yaml.toString());
            assertThat(r.code()).as(command + "\n" + r.err()).isEqualTo(2);
            assertThat(r.out()).isEmpty();
            assertThat(r.err()).contains("training.scheduleFile: " + csvPath + ":2:5: unknown action type 'X' in '1X0'")
                    .doesNotContain("\tat ", "Exception");
        }
    }

    @Test
    void aWellFormedCsvThatCannotRunIsShownByTheValidator() throws IOException {
        // rank 1 runs a backward before its forward
        Path yaml = scenarioReading("deadlock.csv", "0F0,0F1,0B0,0B1\n1F0,1B1,1B0,1F1\n");
        Result r = run("plan", "--set", "parallelism.virtualStages=1", "--set", "batch.microBatches=2", yaml.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("training.schedule: the custom schedule is not valid", "[1B1]");
    }

    @Test
    void aBadFormatIsAUserMistakeAndRecomputeIsLeftOutWithANote() {
        Result bad = run("schedule", "--format", "pytorch", scenario("1f1b-4x8.yaml"));
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("--format must be grid, text or pytorch-csv, got 'pytorch'");
        Result both = run("schedule", "--text", "--format", "pytorch-csv", scenario("1f1b-4x8.yaml"));
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("--text and --format pytorch-csv ask for two formats: give one");

        Result plain = run("schedule", "--format", "pytorch-csv", scenario("1f1b-4x8.yaml"));
        Result recompute = run("schedule", "--format", "pytorch-csv", "--set", "training.recompute=full", scenario("1f1b-4x8.yaml"));
        assertThat(recompute.code()).as(recompute.err()).isZero();
        assertThat(recompute.out()).isEqualTo(plain.out()).doesNotContain("R");
        assertThat(recompute.err()).contains("the recompute (R) actions are left out of the CSV");
        assertThat(plain.err()).isEmpty();
    }
}
