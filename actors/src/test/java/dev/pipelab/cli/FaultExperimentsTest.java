package dev.pipelab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped fault experiments under {@code scenarios/faults/} that run embedded (node-kill needs a cluster:
 * NodeFaultsIT) run, balance their ledgers, and give the answers the README states.
 */
class FaultExperimentsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private JsonNode run(String experiment, String... extra) throws IOException {
        Path out = dir.resolve(experiment + "-" + String.join("-", extra).replaceAll("[^a-z0-9]", ""));
        List<String> args = new ArrayList<>(List.of("run", CliTest.SCENARIOS.resolve("faults").resolve(experiment + ".yaml").toString(),
                "--no-dashboard", "--quiet", "--out", out.toString()));
        args.addAll(List.of(extra));
        CliTest.Result r = CliTest.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
        assertThat(report.path("recovery").path("ledger").path("balanced").asBoolean()).as(experiment + " ledger").isTrue();
        return report;
    }

    private static double step(JsonNode report) {
        return report.path("stepTimeSeconds").asDouble();
    }

    @Test
    void aStragglerCostsZeroBubbleMoreThanOneFOneB() throws IOException {
        double oneF1B = step(run("straggler")) / step(run("straggler", "--set", "faults=[]"));
        double zbH1 = step(run("straggler", "--set", "training.schedule=zb-h1"))
                / step(run("straggler", "--set", "training.schedule=zb-h1", "--set", "faults=[]"));
        assertThat(oneF1B).isGreaterThan(1.0);
        // ZB-H1 has less bubble to hide the slow stage's extra work in: the same straggler costs it a larger share
        assertThat(zbH1).isGreaterThan(oneF1B);
    }

    @Test
    void aLossyLinkCostsItsRetransmissions() throws IOException {
        JsonNode lossy = run("lossy-link");
        JsonNode clean = run("lossy-link", "--set", "faults=[]");
        assertThat(lossy.path("recovery").path("transmissionsDropped").asInt()).isPositive();
        assertThat(step(lossy)).isGreaterThan(step(clean));
        assertThat(lossy.path("recovery").path("recoveries").size()).isZero();
    }

    @Test
    void checkpointingLessOftenLosesMoreWorkAndStillWinsHere() throws IOException {
        JsonNode every = run("crash-checkpoints");
        JsonNode tenth = run("crash-checkpoints", "--set", "recovery.checkpointEverySteps=10");
        assertThat(every.path("recovery").path("checkpoints").asInt()).isEqualTo(30);
        assertThat(tenth.path("recovery").path("checkpoints").asInt()).isEqualTo(3);
        assertThat(every.path("recovery").path("replayedSteps").asInt()).isZero();
        assertThat(tenth.path("recovery").path("replayedSteps").asInt()).isEqualTo(5); // steps 10..14, crash in 15
        assertThat(tenth.path("recovery").path("lostWorkSeconds").asDouble())
                .isGreaterThan(every.path("recovery").path("lostWorkSeconds").asDouble());
        assertThat(tenth.path("recovery").path("goodput").asDouble()).isGreaterThan(every.path("recovery").path("goodput").asDouble());
    }
}
