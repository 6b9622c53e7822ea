package dev.pipelab.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** An error prints as the one line a user reads, omitting a position it does not know. */
class ScenarioErrorTest {

    @Test
    void aLocatedErrorPrintsFileLineColumnPathAndMessage() {
        assertThat(new ScenarioError("llama.yaml", 4, 13, "parallelism.pipeline", "must be >= 1, got 0"))
                .hasToString("llama.yaml:4:13: parallelism.pipeline: must be >= 1, got 0");
    }

    @Test
    void anUnknownPositionIsOmitted() {
        assertThat(new ScenarioError("llama.yaml", 0, 0, "", "the file is empty"))
                .hasToString("llama.yaml: (root): the file is empty");
        assertThat(new ScenarioError("llama.yaml", 3, 0, "seed", "must be an integer, got \"x\""))
                .hasToString("llama.yaml:3: seed: must be an integer, got \"x\"");
    }

    @Test
    void theExceptionListsEveryErrorAndNeedsOne() {
        ScenarioException e = new ScenarioException(List.of(
                new ScenarioError("a.yaml", 1, 1, "model", "is required"),
                new ScenarioError("a.yaml", 2, 5, "seed", "must be an integer, got 2.5")));

        assertThat(e.getMessage()).isEqualTo("a.yaml:1:1: model: is required\na.yaml:2:5: seed: must be an integer, got 2.5");
        assertThat(e.getStackTrace()).isEmpty();
        assertThatThrownBy(() -> new ScenarioException(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
