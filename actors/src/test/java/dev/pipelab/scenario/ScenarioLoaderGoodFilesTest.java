package dev.pipelab.scenario;

import static dev.pipelab.scenario.Scenarios.file;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The files in {@code scenarios/good/} load with the values they give and the documented defaults for the rest. */
class ScenarioLoaderGoodFilesTest {

    @Test
    void theArticleScenarioKeepsEveryValue() {
        Scenario s = ScenarioLoader.load(file("good/llama2-70b-article.yaml"));

        assertThat(s.name()).isEqualTo("llama2-70b-article");
        assertThat(s.model().preset()).contains("llama2-70b");
        assertThat(s.model().seqLength()).contains(4096);
        assertThat(s.model().parameters()).contains(70e9);
        assertThat(s.model().layers()).isEmpty();
        assertThat(s.hardware()).isEqualTo(new Scenario.Hardware("a100-80gb", 8, "nvlink3", "ib-hdr", 0.5));
        assertThat(s.parallelism()).isEqualTo(new Scenario.Parallelism(8, 1, 1, 1, false, "uniform", Optional.empty()));
        assertThat(s.batch()).isEqualTo(new Scenario.Batch(8, 8));
        assertThat(s.training()).isEqualTo(
                new Scenario.Training("1f1b", "selective", "adam-mixed", 10, Optional.of(4), Optional.empty(), "warn"));
        assertThat(s.costs()).contains(new Scenario.Costs(
                Optional.of(List.of(0.01)),
                Optional.of(List.of(0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.03)),
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(0.1), Optional.of(0.01)));
        assertThat(s.seed()).isEqualTo(42L);
    }

    @Test
    void aMinimalScenarioGetsTheDocumentedDefaults() {
        Scenario s = ScenarioLoader.load(file("good/minimal.yaml"));

        assertThat(s.name()).isEqualTo("minimal");
        assertThat(s.model()).isEqualTo(new Scenario.Model(Optional.of("gpt3-1.3b"), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty()));
        assertThat(s.hardware()).isEqualTo(new Scenario.Hardware("v100-32gb", 8, "nvlink3", "ib-hdr", 0.5));
        assertThat(s.parallelism()).isEqualTo(new Scenario.Parallelism(2, 1, 1, 1, false, "uniform", Optional.empty()));
        assertThat(s.batch()).isEqualTo(new Scenario.Batch(4, 16));
        assertThat(s.training()).isEqualTo(
                new Scenario.Training("1f1b", "none", "adam-mixed", 1, Optional.empty(), Optional.empty(), "warn"));
        assertThat(s.costs()).isEmpty();
        assertThat(s.seed()).isZero();
    }

    @Test
    void aCustomInterleavedModelKeepsItsShapesAndPlacement() {
        Scenario s = ScenarioLoader.load(file("good/custom-interleaved.yaml"));

        assertThat(s.name()).isEqualTo("custom-interleaved");
        assertThat(s.model()).isEqualTo(new Scenario.Model(Optional.empty(), Optional.of(1024), Optional.empty(),
                Optional.of(12), Optional.of(1024), Optional.of(16), Optional.of(4), Optional.of(2816), Optional.of(32000),
                Optional.of("swiglu"), Optional.of(true)));
        assertThat(s.hardware()).isEqualTo(new Scenario.Hardware("rtx4090-24gb", 2, "pcie4", "eth-800g", 0.35));
        assertThat(s.parallelism()).isEqualTo(
                new Scenario.Parallelism(2, 2, 2, 2, true, "balanced", Optional.of(List.of(4, 3, 3, 2))));
        assertThat(s.training()).isEqualTo(
                new Scenario.Training("interleaved", "full", "sgd-mixed", 1, Optional.empty(), Optional.empty(), "warn"));
        assertThat(s.costs().orElseThrow().p2pSeconds()).contains(List.of(0.001, 0.002, 0.001, 0.002));
        assertThat(s.costs().orElseThrow().forwardSeconds()).isEmpty();
        assertThat(s.seed()).isEqualTo(-7L);
    }

    @Test
    void anExplicitPlacementKeepsItsMapReplicaByReplica() {
        Scenario s = ScenarioLoader.load(file("good/explicit-placement.yaml"));

        assertThat(s.cluster()).isEqualTo(new Scenario.Cluster("explicit", List.of(List.of(0, 0, 1), List.of(2, 2, 1))));
        assertThat(ScenarioLoader.load(file("good/minimal.yaml")).cluster()).isEqualTo(Scenario.Cluster.PACK);
    }

    @Test
    void aCustomScheduleFileIsStoredAsAnAbsolutePath() {
        Path scenario = file("good/custom-schedule.yaml");
        Scenario s = ScenarioLoader.load(scenario);

        Path expected = scenario.getParent().resolve("schedules/two-stages.schedule").toAbsolutePath().normalize();
        assertThat(s.training().schedule()).isEqualTo("custom");
        assertThat(s.training().scheduleFile()).contains(expected.toString());
        assertThat(Path.of(s.training().scheduleFile().orElseThrow())).isAbsolute().exists();
    }

    @Test
    void jsonIsAcceptedByExtension() {
        Scenario s = ScenarioLoader.load(file("good/minimal.json"));

        assertThat(s.name()).isEqualTo("minimal");
        assertThat(s.model().preset()).contains("llama3-8b");
        assertThat(s.hardware().device()).isEqualTo("h100-80gb");
        assertThat(s.parallelism().pipeline()).isEqualTo(4);
        assertThat(s.batch()).isEqualTo(new Scenario.Batch(1, 32));
    }

    @Test
    void jsonIsAcceptedByContentToo() {
        Scenario s = ScenarioLoader.parse("{\"model\": {\"preset\": \"llama2-7b\"}, \"hardware\": {\"device\": \"a100-80gb\"},"
                + " \"parallelism\": {\"pipeline\": 2}, \"batch\": {\"microBatchSize\": 1, \"microBatches\": 2}}",
                "inline.scenario", List.of());

        assertThat(s.name()).isEqualTo("inline");
        assertThat(s.parallelism().pipeline()).isEqualTo(2);
    }

    @Test
    void aYamlFlowMappingThatIsNotJsonIsReadAsYaml() {
        Scenario s = ScenarioLoader.parse("{model: {preset: llama2-7b}, hardware: {device: a100-80gb},\n"
                + " parallelism: {pipeline: 2}, batch: {microBatchSize: 1, microBatches: 2}}  # flow style\n", "flow.yaml", List.of());

        assertThat(s.parallelism().pipeline()).isEqualTo(2);
    }

    @Test
    void aWholeNumberWrittenWithAFractionIsAnInteger() {
        Scenario s = ScenarioLoader.parse("model: {preset: llama2-7b}\nhardware: {device: a100-80gb}\n"
                + "parallelism: {pipeline: 4.0}\nbatch: {microBatchSize: 1, microBatches: 2}\n", "x.yaml", List.of());

        assertThat(s.parallelism().pipeline()).isEqualTo(4);
    }

    @Test
    void theSourceLocatesValuesForLaterChecks() {
        LoadedScenario loaded = ScenarioLoader.loadWithSource(file("good/minimal.yaml"), List.of());

        assertThat(loaded.scenario().parallelism().pipeline()).isEqualTo(2);
        assertThat(loaded.source().errorAt("parallelism.pipeline", "must be at most 1 for this device, got 2").toString())
                .endsWith("minimal.yaml:6:13: parallelism.pipeline: must be at most 1 for this device, got 2");
        // a key the file does not have is located at its nearest written parent
        assertThat(Scenarios.where(loaded.source().errorAt("parallelism.layersPerStage[3]", "too many layers")))
                .isEqualTo("6:3: parallelism.layersPerStage[3]: too many layers");
        assertThat(Scenarios.where(loaded.source().errorAt("(root)", "the plan does not fit")))
                .isEqualTo("1:1: (root): the plan does not fit");
    }
}
