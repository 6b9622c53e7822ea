package dev.pipelab.scenario;

import static dev.pipelab.scenario.Scenarios.errorsOf;
import static dev.pipelab.scenario.Scenarios.file;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code --set key.path=value} overrides are applied before validation, and their errors say where they came from. */
class ScenarioOverridesTest {

    private static final String MINIMAL = "model: {preset: llama2-7b}\nhardware: {device: a100-80gb}\n"
            + "parallelism: {pipeline: 4}\nbatch: {microBatchSize: 1, microBatches: 8}\n";

    private static Scenario parse(String... sets) {
        return ScenarioLoader.parse(MINIMAL, "base.yaml", List.of(sets));
    }

    @Test
    void valuesAreParsedAsYamlFlowValues() {
        Scenario s = parse("parallelism.pipeline=8", "hardware.efficiency=0.4", "parallelism.sequenceParallel=true",
                "model.mlp=gelu", "model.layers=32", "costs.forwardSeconds=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]",
                "name = renamed");

        assertThat(s.parallelism().pipeline()).isEqualTo(8);
        assertThat(s.hardware().efficiency()).isEqualTo(0.4);
        assertThat(s.parallelism().sequenceParallel()).isTrue();
        assertThat(s.model().mlp()).contains("gelu");
        assertThat(s.model().layers()).contains(32);
        assertThat(s.costs().orElseThrow().forwardSeconds()).contains(List.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8));
        assertThat(s.name()).isEqualTo("renamed");
    }

    @Test
    void missingMappingsAreCreated() {
        Scenario s = parse("training.schedule=gpipe", "training.steps=3", "costs.allReduceSeconds=0.5");

        assertThat(s.training().schedule()).isEqualTo("gpipe");
        assertThat(s.training().steps()).isEqualTo(3);
        assertThat(s.costs().orElseThrow().allReduceSeconds()).contains(0.5);
    }

    @Test
    void laterSetsWinAndListItemsCanBeReplaced() {
        Scenario s = parse("parallelism.layersPerStage=[8, 8, 8, 8]", "parallelism.layersPerStage[3]=9",
                "parallelism.pipeline=2", "parallelism.pipeline=4");

        assertThat(s.parallelism().layersPerStage()).contains(List.of(8, 8, 8, 9));
        assertThat(s.parallelism().pipeline()).isEqualTo(4);
    }

    @Test
    void theDeviceFlagIsAnOverride() {
        assertThat(ScenarioLoader.deviceSet("h100-80gb")).isEqualTo("hardware.device=h100-80gb");
        assertThat(parse(ScenarioLoader.deviceSet("h100-80gb")).hardware().device()).isEqualTo("h100-80gb");
        // --device also completes a file that names no hardware at all
        Scenario s = ScenarioLoader.parse("model: {preset: llama2-7b}\nparallelism: {pipeline: 2}\n"
                + "batch: {microBatchSize: 1, microBatches: 2}\n", "nohw.yaml", List.of(ScenarioLoader.deviceSet("v100-32gb")));
        assertThat(s.hardware()).isEqualTo(new Scenario.Hardware("v100-32gb", 8, "nvlink3", "ib-hdr", 0.5));
    }

    @Test
    void malformedSetsAreErrorsNamedByTheirText() {
        assertThat(errorsOf(() -> parse("pipeline", "=3", "a..b=1", "batch.microBatches.x=1",
                "costs.forwardSeconds[0]=1", "model.layers=[1, 2")))
                .containsExactly(
                        "0:0: --set pipeline: must be key.path=value, got no '='",
                        "0:0: --set =3: must be key.path=value, got an empty key path",
                        "0:0: --set a..b=1: must be key.path=value with keys joined by '.', got 'a..b'",
                        "0:0: --set batch.microBatches.x=1: cannot set 'x' inside batch.microBatches, which is 8, not a mapping",
                        "0:0: --set costs.forwardSeconds[0]=1: costs.forwardSeconds has no list to index into",
                        "0:0: --set model.layers=[1, 2: value is not valid YAML: expected ',' or ']', but got <stream end>");
    }

    @Test
    void anOverrideThatMakesTheFileInvalidSaysItCameFromSet() {
        List<String> errors = errorsOf(() -> parse("parallelism.pipline=2", "parallelism.pipeline=0",
                "training.schedule=2f2b", "batch.microBatches=eight"));

        assertThat(errors).containsExactly(
                "0:0: parallelism: unknown key 'pipline' (allowed: pipeline, data, tensor, virtualStages, sequenceParallel, "
                        + "partition, layersPerStage, zero) (from --set parallelism.pipline=2)",
                "0:0: parallelism.pipeline: must be >= 1, got 0 (from --set parallelism.pipeline=0)",
                "0:0: training.schedule: must be one of gpipe, 1f1b, interleaved, zb-h1, zb-h2, zb-1p, zb-2p, zb-v, dualpipev, custom, got '2f2b' "
                        + "(from --set training.schedule=2f2b)",
                "0:0: batch.microBatches: must be an integer, got \"eight\" (from --set batch.microBatches=eight)");
    }

    @Test
    void aCrossFieldErrorCausedByAnOverrideIsReportedWithTheFileErrors() {
        List<String> errors = errorsOf(() -> ScenarioLoader.load(file("good/minimal.yaml"),
                List.of("training.schedule=interleaved", "hardware.device=tpu")));

        assertThat(errors).containsExactly(
                "6:3: parallelism.virtualStages: must be >= 2 for schedule 'interleaved', got 1",
                "0:0: hardware.device: must be one of a100-40gb, a100-80gb, h100-80gb, h200-141gb, rtx4090-24gb, v100-32gb, "
                        + "got 'tpu' (from --set hardware.device=tpu)");
    }

    @Test
    void setsAreValidatedEvenWhenTheFileIsBroken() {
        assertThat(errorsOf(() -> ScenarioLoader.parse("", "empty.yaml", List.of("nonsense"))))
                .containsExactly("0:0: (root): the file is empty", "0:0: --set nonsense: must be key.path=value, got no '='");
    }

    @Test
    void anEmptyValueSetsNothingUsable() {
        assertThat(errorsOf(() -> parse("batch.microBatches=")))
                .containsExactly("0:0: batch.microBatches: must be an integer, got an empty value (from --set batch.microBatches=)");
        assertThat(parse("training.linkBuffer=2").training().linkBuffer()).isEqualTo(Optional.of(2));
    }
}
