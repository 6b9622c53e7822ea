package dev.pipelab.scenario;

import static dev.pipelab.scenario.Scenarios.errorsOf;
import static dev.pipelab.scenario.Scenarios.file;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every malformed file in {@code scenarios/bad/} yields exactly the expected located errors, all at once. */
class ScenarioLoaderBadFilesTest {

    private static final String PRESETS = "gpt-1.7b, gpt-3.6b, gpt-7.5b, gpt-18b, gpt-39b, gpt-76b, gpt-145b, gpt-310b, "
            + "gpt-530b, gpt-1t, gpt3-125m, gpt3-350m, gpt3-760m, gpt3-1.3b, gpt3-2.7b, gpt3-6.7b, gpt3-13b, gpt3-175b, "
            + "llama2-7b, llama2-13b, llama2-70b, llama3-8b, llama3-70b, llama3-405b";
    private static final String PARALLELISM_KEYS =
            "pipeline, data, tensor, virtualStages, sequenceParallel, partition, layersPerStage, zero";

    static Stream<Arguments> badFiles() {
        return Stream.of(
                bad("wrong-types.yaml",
                        "1:40: model.seqLength: must be an integer, got 2048.5",
                        "2:44: hardware.efficiency: must be a number, got \"fast\"",
                        "3:26: parallelism.pipeline: must be an integer, got \"eight\"",
                        "3:51: parallelism.sequenceParallel: must be true or false, got \"yes please\"",
                        "4:43: batch.microBatches: must be an integer, got a list"),
                bad("negatives.yaml",
                        "2:48: hardware.devicesPerNode: must be >= 1, got -8",
                        "3:35: parallelism.data: must be >= 1, got -2",
                        "4:43: batch.microBatches: must be >= 1, got -1",
                        "5:26: costs.forwardSeconds: must be >= 0, got -0.5",
                        "5:61: costs.backwardInputSeconds[1]: must be >= 0, got -0.02"),
                bad("zero-pipeline.yaml",
                        "6:13: parallelism.pipeline: must be >= 1, got 0"),
                bad("pipeline-exceeds-layers.yaml",
                        "4:26: parallelism.pipeline: 100 stages exceed the model's 80 layers"),
                bad("unknown-schedule.yaml",
                        "6:13: training.schedule: must be one of gpipe, 1f1b, interleaved, zb-h1, zb-h2, zb-1p, zb-2p, zb-v, dualpipev, custom, got '2f2b'"),
                bad("unknown-preset.yaml",
                        "1:18: model.preset: must be one of " + PRESETS + ", got 'llama4-400b'"),
                bad("unknown-keys.yaml",
                        "3:3: model: unknown key 'dropout' (allowed: preset, seqLength, parameters, layers, hidden, heads, "
                                + "kvHeads, ffn, vocab, mlp, tiedEmbeddings)",
                        "8:3: costs: unknown key 'forwardSecs' (allowed: forwardSeconds, backwardInputSeconds, "
                                + "backwardWeightSeconds, recomputeSeconds, p2pSeconds, allReduceSeconds, optimizerSeconds)",
                        "9:1: (root): unknown key 'chaos' (allowed: name, model, hardware, parallelism, batch, training, costs, seed, telemetry, cluster, real, faults, recovery)"),
                bad("misspelled-key.yaml",
                        "4:3: parallelism: unknown key 'pipline' (allowed: " + PARALLELISM_KEYS + ")",
                        "4:3: parallelism.pipeline: is required"),
                bad("empty.yaml",
                        "0:0: (root): the file is empty"),
                bad("not-yaml.yaml",
                        "2:9: (root): not valid YAML: expected ',' or '}', but got :"),
                bad("broken.json",
                        "3:40: (root): not valid JSON: Unexpected character ('}' (code 125)): "
                                + "was expecting double-quote to start field name"),
                bad("list-root.yaml",
                        "1:1: (root): must be a mapping, got a list"),
                bad("list-after-comments.yaml",
                        "3:1: (root): must be a mapping, got a list"),
                bad("scalar-root.yaml",
                        "1:1: (root): must be a mapping, got \"pipeline parallelism, please\""),
                bad("missing-required.yaml",
                        "1:1: model: is required",
                        "1:11: hardware.device: is required",
                        "2:14: parallelism.pipeline: is required",
                        "3:8: batch.microBatches: is required"),
                bad("layers-per-stage-length.yaml",
                        "5:19: parallelism.layersPerStage: must have 4 entries (pipeline·virtualStages = 4·1), got 5",
                        "5:36: parallelism.layersPerStage[4]: must be >= 1, got 0"),
                bad("layers-per-stage-sum.yaml",
                        "3:45: parallelism.layersPerStage: must sum to model.layers = 80, got 79"),
                bad("interleaved-v1.yaml",
                        "3:14: parallelism.virtualStages: must be >= 2 for schedule 'interleaved', got 1"),
                bad("gpipe-v2.yaml",
                        "3:44: parallelism.virtualStages: must be 1 for schedule 'gpipe', got 2"),
                bad("custom-without-file.yaml",
                        "6:13: training.scheduleFile: is required for schedule 'custom'"),
                bad("costs-wrong-length.yaml",
                        "6:19: costs.forwardSeconds: must have 1 or 4 entries (pipeline·virtualStages = 4·1), got 3"),
                bad("custom-model-incomplete.yaml",
                        "2:3: model.ffn: is required for a custom model (no model.preset)",
                        "2:3: model.heads: is required for a custom model (no model.preset)",
                        "2:3: model.seqLength: is required for a custom model (no model.preset)",
                        "2:3: model.vocab: is required for a custom model (no model.preset)"),
                bad("heads-not-multiple.yaml",
                        "1:37: model.heads: must be a multiple of model.kvHeads = 8, got 12",
                        "1:37: model.heads: must be a multiple of parallelism.tensor = 5, got 12"),
                bad("duplicate-key.yaml",
                        "5:1: (root): duplicate key 'parallelism'"),
                bad("types.json",
                        "4:32: parallelism.pipeline: must be an integer, got \"4\"",
                        "5:51: batch.microBatches: must be an integer, got 4.5"),
                bad("real-mode.yaml",
                        "8:41: real.model.layers: must be at least the 4 model stages (pipeline·virtualStages = 4·1), got 2",
                        "8:44: real.model: unknown key 'lossy' (allowed: kind, width, layers, inputs, outputs, vocab, sequenceLength, "
                                + "heads, activation, layerNorm, loss)",
                        "9:17: real.data.kind: must be teacher for an mlp, got sequences"),
                bad("real-missing.yaml",
                        "6:23: training.numerics: is real, so the scenario needs a real section (the model to train)"),
                bad("explicit-workers-shape.yaml",
                        "8:5: cluster.workers: must have one list per replica (parallelism.data = 2), got 3",
                        "8:7: cluster.workers[0]: must have one worker index per rank (parallelism.pipeline = 4), got 3",
                        "9:17: cluster.workers[1][3]: must be >= 0, got -1"),
                bad("explicit-without-workers.yaml",
                        "5:23: cluster.placement: is explicit, so the scenario needs cluster.workers (the worker index of each "
                                + "replica's ranks, e.g. [[0, 0, 1, 1]])"),
                bad("faults.yaml",
                        "8:11: faults[0].kind: must be one of stage.crash, stage.slowdown, stage.memory_pressure, link.latency, "
                                + "link.bandwidth, link.loss, link.duplicate, link.partition, node.kill, node.pause, got 'link.lose'",
                        "10:13: faults[0].atStep: must be >= 0, got -1",
                        "11:5: faults[1].target: is required",
                        "11:26: faults[1]: unknown key 'when' (allowed: kind, target, atStep, atSeconds, durationSeconds, heal, "
                                + "factor, fraction, seconds, probability, seed)",
                        "13:13: faults[2].target: must be a string or a mapping, got 3",
                        "15:45: faults[3].target.percent: must be <= 100, got 120",
                        "17:16: recovery.storageGBps: must be > 0, got 0",
                        "18:16: recovery.maxRestarts: must be an integer, got 1.5"),
                bad("fault-rules.yaml",
                        "7:59: faults[0].factor: is not a key of link.loss (its parameter is probability)",
                        "8:83: faults[1].durationSeconds: stage.crash happens at an instant: it takes no durationSeconds",
                        "9:79: faults[2].heal: cannot be given with durationSeconds: give one of the two",
                        "10:75: faults[3].probability: must be in (0, 1] for link.duplicate, got 1.5",
                        "11:73: faults[4].heal: must not come before the injection at step 5 + 1 s, got step 5 + 0.5 s",
                        "13:12: recovery.elastic: true is not supported yet: a failed stage is restarted in place (leave it out or write false)"),
                bad("many-errors.yaml",
                        "4:8: model.mlp: must be one of gelu, swiglu, got 'relu'",
                        "6:11: hardware.device: must be one of a100-40gb, a100-80gb, h100-80gb, h200-141gb, rtx4090-24gb, "
                                + "v100-32gb, got 'b200'",
                        "7:15: hardware.efficiency: must be <= 1, got 1.5",
                        "9:13: parallelism.pipeline: must be >= 1, got 0",
                        "11:3: parallelism: unknown key 'sequenceParalel' (allowed: " + PARALLELISM_KEYS + ")",
                        "13:3: batch.microBatches: is required",
                        "13:19: batch.microBatchSize: must be >= 1, got 0",
                        "16:14: training.recompute: must be one of none, selective, full, got 'some'",
                        "17:10: training.steps: must be an integer, got 2.5",
                        "19:25: costs.forwardSeconds[1]: must be >= 0, got -1",
                        "20:7: seed: must be an integer, got \"forty-two\""));
    }

    private static Arguments bad(String file, String... errors) {
        return Arguments.of(file, List.of(errors));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void reportsEveryErrorWithItsPathAndPosition(String name, List<String> expected) {
        assertThat(errorsOf(() -> ScenarioLoader.load(file("bad/" + name)))).containsExactlyElementsOf(expected);
    }

    @Test
    void everyBadFileHasItsExpectation() throws IOException {
        Set<String> covered = Stream.concat(badFiles().map(a -> (String) a.get()[0]),
                Stream.of("custom-missing-file.yaml")).collect(Collectors.toSet());
        try (Stream<Path> files = Files.list(file("bad/empty.yaml").getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).allMatch(covered::contains, "is covered by badFiles()");
        }
        assertThat(covered).hasSizeGreaterThanOrEqualTo(15);
    }

    @Test
    void aMissingScheduleFileIsResolvedAgainstTheScenarioFolder() {
        Path scenario = file("bad/custom-missing-file.yaml");
        Path expected = scenario.getParent().resolve("schedules/missing.schedule").toAbsolutePath().normalize();
        assertThat(errorsOf(() -> ScenarioLoader.load(scenario))).containsExactly(
                "7:17: training.scheduleFile: must name an existing file, got \"schedules/missing.schedule\" ("
                        + expected + " does not exist)");
    }

    @Test
    void theErrorLineNamesTheFileAsTheUserDid() {
        ScenarioException e = catchThrowableOfType(ScenarioException.class,
                () -> ScenarioLoader.parse("model: {preset: llama2-7b}\nhardware: {device: a100-80gb}\n"
                        + "parallelism:\n  pipeline: 0\nbatch: {microBatchSize: 1, microBatches: 1}\n", "llama.yaml", List.of()));
        assertThat(e.getMessage()).isEqualTo("llama.yaml:4:13: parallelism.pipeline: must be >= 1, got 0");
    }

    @Test
    void brokenJsonWithoutTheExtensionReportsTheJsonError() {
        assertThat(errorsOf(() -> ScenarioLoader.parse("{\"model\": {\"preset\": \"llama2-7b\"},\n  \"seed\": [1, }\n",
                "inline.txt", List.of())))
                .containsExactly("2:15: (root): not valid JSON: Unexpected character ('}' (code 125)): expected a value");
    }

    @Test
    void aMissingFileIsAnErrorNotAStackTrace() {
        Path missing = Path.of("no/such/scenario.yaml");
        ScenarioException e = catchThrowableOfType(ScenarioException.class,
                () -> ScenarioLoader.load(missing));
        assertThat(e.errors()).extracting(ScenarioError::toString)
                .containsExactly(missing + ": (root): cannot read the file: it does not exist");
    }

    @Test
    void aFolderIsAnError(@TempDir Path dir) {
        assertThat(errorsOf(() -> ScenarioLoader.load(dir))).containsExactly("0:0: (root): cannot read the file: it is a folder");
    }

    @Test
    void aFileThatIsNotUtf8IsAnError(@TempDir Path dir) throws IOException {
        Path binary = Files.write(dir.resolve("binary.yaml"), new byte[] {(byte) 0xC3, (byte) 0x28, 0x0A});
        assertThat(errorsOf(() -> ScenarioLoader.load(binary)))
                .containsExactly("0:0: (root): cannot read the file: it is not UTF-8 text");
    }
}
