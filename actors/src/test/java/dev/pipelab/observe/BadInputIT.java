package dev.pipelab.observe;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * {@code pipelab run} on bad input: exit code 2, a message that says where, no stack trace, and no output left behind
 * (neither files nor the folder); a schedule that deadlocks ends the command with its stuck actions instead of hanging.
 */
class BadInputIT {

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(BadInputIT.class.getResource("/observe/" + name).toURI());
    }

    @Test
    void malformedYamlExitsTwoWithItsLineAndColumnAndWritesNothing(@TempDir Path tmp) throws Exception {
        Path scenario = resource("malformed.yaml");
        Path out = tmp.resolve("out");
        E2e.Result r = E2e.pipelab("run", scenario.toString(), "--no-dashboard", "--out", out.toString());
        assertThat(r.code()).as(r.toString()).isEqualTo(2);
        assertThat(r.err()).contains(scenario + ":7:").contains("not valid YAML").doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(out).doesNotExist();
    }

    @Test
    void misspelledKeyExitsTwoWithItsLocationAndWritesNothing(@TempDir Path tmp) throws Exception {
        Path scenario = resource("misspelled.yaml");
        Path out = tmp.resolve("out");
        Files.createDirectories(out); // an existing, empty folder stays empty
        E2e.Result r = E2e.pipelab("run", scenario.toString(), "--no-dashboard", "--out", out.toString());
        assertThat(r.code()).as(r.toString()).isEqualTo(2);
        assertThat(r.err()).contains(scenario + ":5:3: parallelism: unknown key 'pipline'").doesNotContain("\tat ");
        assertThat(E2e.filesIn(out)).isEmpty();
    }

    @Test
    void unknownClockExitsTwo(@TempDir Path tmp) {
        Path out = tmp.resolve("out");
        E2e.Result r = E2e.pipelab("run", E2e.SCENARIOS.resolve("quickstart.yaml").toString(), "--clock", "sundial",
                "--no-dashboard", "--out", out.toString());
        assertThat(r.code()).as(r.toString()).isEqualTo(2);
        assertThat(r.err()).contains("--clock must be virtual or wall, got 'sundial'").doesNotContain("\tat ");
        assertThat(out).doesNotExist();
    }

    /**
     * Rank 1 runs F1 before F0 against the FIFO of link 0->1 with one buffer slot ({@code training.linkBuffer: 1}):
     * the command reports the deadlock, naming both stuck actions, and exits 2 (within the test's deadline, not a hang).
     */
    @Test
    void customScheduleThatDeadlocksWithOneBufferSlotExitsTwoWithTheStuckActions(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        E2e.Result r = assertTimeoutPreemptively(E2e.LONG, () -> E2e.pipelab("run",
                resource("deadlock-link-buffer-1.yaml").toString(), "--no-dashboard", "--out", out.toString()));
        assertThat(r.code()).as(r.toString()).isEqualTo(2);
        assertThat(r.err()).contains("deadlock")
                .contains("rank 0 action #1 0F1: waits for credit on link 0->1 (buffer 1 full until 1F0 starts)")
                .contains("rank 1 action #0 1F1: waits for the activation of 0F1")
                .doesNotContain("\tat ");
        assertThat(E2e.filesIn(out)).isEmpty();
    }

    /** The same schedule with two buffer slots runs: the deadlock above is the buffer's doing. */
    @Test
    void theSameScheduleRunsWithTwoBufferSlots(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        E2e.Result r = E2e.pipelab("run", resource("deadlock-link-buffer-1.yaml").toString(), "--set", "training.linkBuffer=2",
                "--no-dashboard", "--quiet", "--out", out.toString());
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(E2e.filesIn(out)).containsExactly("report.html", "report.json", "trace.json");
    }
}
