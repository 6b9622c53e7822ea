package dev.pipelab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pipelab bench evaluator} and {@code search} without {@code --rounds}: the default rounds, no null to unbox. */
class BenchCommandTest {

    @Test
    void searchAndEvaluatorRunTheDefaultRoundsWithoutRounds(@TempDir Path dir) throws Exception {
        // quickstart on one device: a search of a few dozen candidates, fast enough for four rounds
        Path scenario = dir.resolve("one-device.yaml");
        String text = Files.readString(CliTest.SCENARIOS.resolve("quickstart.yaml"));
        assertThat(text).contains("pipeline: 4");
        Files.writeString(scenario, text.replace("pipeline: 4", "pipeline: 1"));
        CliTest.Result search = CliTest.run("bench", "search", "--search-scenario", scenario.toString());
        assertThat(search.code()).as(search.err()).isZero();
        assertThat(search.out().lines().filter(l -> l.matches("  (warm-up|\\d) .*"))).hasSize(4); // warm-up and 3 rounds
        assertThat(search.out()).contains("candidates  automatic");

        CliTest.Result evaluator = CliTest.run("bench", "evaluator", "--seconds", "0.01");
        assertThat(evaluator.code()).as(evaluator.err()).isZero();
        assertThat(evaluator.out().lines().filter(l -> l.matches("  (warm-up|\\d) .*"))).hasSize(4);
    }
}
