package dev.pipelab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.numerics.WeightsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code pipelab run} of the shipped real-numerics scenario: report.json carries a loss per step that falls,
 * the weights file is written, and {@code --sequential} (the reference, no actors) gives the same loss bits
 * and the same weights file.
 */
class RealRunCliTest {

    @Test
    void theTinyTransformerLearnsAndTheSequentialReferenceGivesTheSameBits(@TempDir Path dir) throws Exception {
        Path actors = dir.resolve("actors");
        Path reference = dir.resolve("reference");
        CliTest.Result r = CliTest.run("run", CliTest.scenario("tiny-transformer-real.yaml"), "--steps", "30", "--no-dashboard",
                "--quiet", "--out", actors.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(actors.resolve("report.json").toFile());
        JsonNode loss = report.path("loss");
        assertThat(loss.size()).isEqualTo(30);
        double first = loss.get(0).doubleValue();
        double last = loss.get(29).doubleValue();
        assertThat(first).as("starts near ln 16").isBetween(2.0, 3.5);
        assertThat(last).as("falls clearly within 30 steps").isLessThan(first / 2);

        CliTest.Result s = CliTest.run("run", CliTest.scenario("tiny-transformer-real.yaml"), "--steps", "30", "--sequential",
                "--quiet", "--out", reference.toString());
        assertThat(s.code()).as(s.err()).isZero();
        JsonNode seq = new ObjectMapper().readTree(reference.resolve("report.json").toFile()).path("loss");
        assertThat(seq.size()).isEqualTo(30);
        for (int i = 0; i < 30; i++) {
            assertThat(Double.doubleToRawLongBits(seq.get(i).doubleValue())).as("loss bits of step " + i)
                    .isEqualTo(Double.doubleToRawLongBits(loss.get(i).doubleValue()));
        }
        assertThat(Files.readAllBytes(actors.resolve("weights.plwt"))).isEqualTo(Files.readAllBytes(reference.resolve("weights.plwt")));
        assertThat(WeightsFile.read(actors.resolve("weights.plwt"))).isNotEmpty();
    }

    /**
     * The tiny transformer with a stage crash and a link that drops and duplicates messages, recovering from a
     * checkpoint every 2 steps (so a completed step is replayed): the same loss bits per training step and the same
     * weights file, byte for byte, as the fault-free run.
     */
    @Test
    void aCrashAndALossyLinkLeaveTheWeightsFileOfTheFaultFreeRun(@TempDir Path dir) throws Exception {
        Path clean = dir.resolve("clean");
        Path faulty = dir.resolve("faulty");
        CliTest.Result c = CliTest.run("run", CliTest.scenario("tiny-transformer-real.yaml"), "--steps", "6", "--no-dashboard",
                "--quiet", "--out", clean.toString());
        assertThat(c.code()).as(c.err()).isZero();
        CliTest.Result f = CliTest.run("run", CliTest.scenario("tiny-transformer-real.yaml"), "--steps", "6", "--no-dashboard",
                "--quiet", "--out", faulty.toString(), "--set", "recovery.checkpointEverySteps=2",
                "--fault", "stage.crash 0/1 at=3", "--fault", "link.loss 0/0->1 at=1 for=1 probability=0.3 seed=5",
                "--fault", "link.duplicate 0/1->0 at=4 probability=0.5 seed=6");
        assertThat(f.code()).as(f.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(faulty.resolve("report.json").toFile());
        assertThat(report.path("recovery").path("recoveries").size()).isEqualTo(1);
        assertThat(report.path("recovery").path("replayedSteps").asInt()).isEqualTo(1);
        assertThat(report.path("recovery").path("ledger").path("balanced").asBoolean()).isTrue();
        JsonNode cleanLoss = new ObjectMapper().readTree(clean.resolve("report.json").toFile()).path("loss");
        JsonNode loss = report.path("loss");
        assertThat(loss.size()).as("one loss per training step").isEqualTo(6);
        for (int i = 0; i < 6; i++) {
            assertThat(Double.doubleToRawLongBits(loss.get(i).doubleValue())).as("loss bits of training step " + i)
                    .isEqualTo(Double.doubleToRawLongBits(cleanLoss.get(i).doubleValue()));
        }
        assertThat(Files.readAllBytes(faulty.resolve("weights.plwt"))).isEqualTo(Files.readAllBytes(clean.resolve("weights.plwt")));
    }

    @Test
    void sequentialNeedsARealScenario() {
        CliTest.Result r = CliTest.run("run", CliTest.scenario("quickstart.yaml"), "--sequential", "--quiet", "--no-dashboard");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--sequential needs training.numerics: real");
    }
}
