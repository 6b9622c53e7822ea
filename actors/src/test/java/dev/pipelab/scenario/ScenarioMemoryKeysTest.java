package dev.pipelab.scenario;

import static dev.pipelab.scenario.Scenarios.errorsOf;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** parallelism.zero, hardware.frameworkOverheadGB and training.memory: defaults, bounds and the rules between them. */
class ScenarioMemoryKeysTest {

    private static final String MINIMAL = "model: {preset: llama2-7b}\nhardware: {device: a100-80gb}\n"
            + "parallelism: {pipeline: 4}\nbatch: {microBatchSize: 1, microBatches: 8}\n";

    private static Scenario parse(String... sets) {
        return ScenarioLoader.parse(MINIMAL, "base.yaml", List.of(sets));
    }

    @Test
    void defaultsAreNoZeroTheDocumentedOverheadAndCompleteMemory() {
        Scenario s = parse();
        assertThat(s.parallelism().zero()).isZero();
        assertThat(s.hardware().frameworkOverheadGB()).isEmpty();
        assertThat(s.training().memory()).isEqualTo("complete");
    }

    @Test
    void valuesBind() {
        Scenario s = parse("parallelism.zero=3", "hardware.frameworkOverheadGB=4.5", "training.memory=complete");
        assertThat(s.parallelism().zero()).isEqualTo(3);
        assertThat(s.hardware().frameworkOverheadGB()).isEqualTo(Optional.of(4.5));
        assertThat(parse("training.memory=article").training().memory()).isEqualTo("article");
    }

    @Test
    void outOfRangeValuesAreLocatedErrors() {
        assertThat(errorsOf(() -> parse("parallelism.zero=4"))).singleElement().asString()
                .contains("parallelism.zero").contains("4");
        assertThat(errorsOf(() -> parse("hardware.frameworkOverheadGB=-1"))).singleElement().asString()
                .contains("hardware.frameworkOverheadGB");
        assertThat(errorsOf(() -> parse("training.memory=all"))).singleElement().asString()
                .contains("training.memory").contains("complete").contains("article");
    }

    @Test
    void theArticlesAccountingTakesNoFrameworkOverhead() {
        assertThat(errorsOf(() -> parse("training.memory=article", "hardware.frameworkOverheadGB=2")))
                .containsExactly("0:0: hardware.frameworkOverheadGB: cannot be given with training.memory: article (the article's "
                        + "assumptions count no framework overhead); remove one of the two (from --set hardware.frameworkOverheadGB=2)");
    }

    @Test
    void realNumericsRefusesZeroThree() {
        Path real = Path.of("..", "scenarios", "tiny-transformer-real.yaml");
        assertThat(ScenarioLoader.load(real, List.of("parallelism.zero=1")).parallelism().zero()).isEqualTo(1);
        assertThat(errorsOf(() -> ScenarioLoader.load(real, List.of("parallelism.zero=3")))).singleElement().asString()
                .endsWith("parallelism.zero: cannot be 3 in real-numerics mode: the real ring all-reduces the gradients "
                        + "(2(d-1) messages), it does not gather sharded parameters (from --set parallelism.zero=3)");
    }
}
