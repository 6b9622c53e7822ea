package dev.pipelab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agreement that licenses {@code pipelab goodput}, through the commands a user types: the same scenario file, with
 * interruptions at the {@code llama3-54d} rates scaled up so that they really occur, gives the same goodput, lost work,
 * checkpoints and step counts from {@code pipelab run} (the actors, virtual time) and from {@code pipelab goodput}
 * (step by step). {@code GoodputAgreementTest} checks every kind and every recovery; this checks the wiring: the
 * checkpoint's bytes, the job's shape (devices, nodes, tensor ranks) and the seed reach both the same way.
 */
class GoodputRunAgreementTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void runAndGoodputOfOneScenarioGiveTheSameNumbers() throws Exception {
        // 2 replicas of 4 stages of 2 tensor ranks: 16 GPUs on 2 nodes, the Llama 3 mix 30,000 times as often (at this
        // size the per-job kinds dominate); gpu failures take their node out briefly and the one spare steps in
        Path scenario = dir.resolve("agree.yaml");
        Files.writeString(scenario, """
                name: agree
                model:
                  preset: gpt3-1.3b
                hardware:
                  device: a100-80gb
                  devicesPerNode: 8
                parallelism:
                  pipeline: 4
                  data: 2
                  tensor: 2
                batch:
                  microBatchSize: 1
                  microBatches: 8
                training:
                  schedule: 1f1b
                  steps: 60
                faults:
                  random:
                    preset: llama3-54d
                    scale: 30000
                    seed: 4
                    kinds:
                      gpu: {detectSeconds: 0.2, repairHours: 0.001}
                    spares: 1
                recovery:
                  checkpointEverySteps: 3
                  storageGBps: 40
                  detectSeconds: 0.1
                  restartSeconds: 0.5
                  maxRestarts: 50
                """);
        Path runOut = dir.resolve("run");
        Path goodputOut = dir.resolve("goodput");
        CliTest.Result run = CliTest.run("run", scenario.toString(), "--no-dashboard", "--quiet", "--telemetry", "steps",
                "--out", runOut.toString());
        assertThat(run.code()).as(run.err()).isZero();
        CliTest.Result goodput = CliTest.run("goodput", scenario.toString(), "--steps", "60", "--quiet", "--out", goodputOut.toString());
        assertThat(goodput.code()).as(goodput.err()).isZero();

        JsonNode r = JSON.readTree(runOut.resolve("report.json").toFile()).path("recovery");
        JsonNode g = JSON.readTree(goodputOut.resolve("goodput.json").toFile()).path("totals");
        assertThat(r.path("recoveries").size()).as("interruptions really happen").isGreaterThan(5).isEqualTo(g.path("interruptions").asInt());
        assertThat(r.path("goodput").asDouble()).isEqualTo(g.path("goodput").asDouble());
        assertThat(r.path("lostWorkSeconds").asDouble()).isEqualTo(g.path("lostWorkSeconds").asDouble());
        assertThat(r.path("usefulSeconds").asDouble()).isEqualTo(g.path("usefulSeconds").asDouble());
        assertThat(r.path("elapsedSeconds").asDouble()).isEqualTo(g.path("elapsedSeconds").asDouble());
        assertThat(r.path("replayedSteps").asInt()).isEqualTo(g.path("replayedSteps").asInt());
        assertThat(r.path("checkpoints").asInt()).isEqualTo(g.path("checkpoints").asInt());
        assertThat(r.path("checkpointSeconds").asDouble()).isEqualTo(g.path("checkpointSeconds").asDouble());
        assertThat(g.path("committedSteps").asInt()).isEqualTo(60);
    }
}
