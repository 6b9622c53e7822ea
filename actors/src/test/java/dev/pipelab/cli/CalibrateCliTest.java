package dev.pipelab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** pipelab validate-model and pipelab calibrate as a user meets them. */
class CalibrateCliTest {

    @TempDir
    Path dir;

    @Test
    void validateModelPrintsTheTenRowsAndTheErrors() {
        CliTest.Result r = CliTest.run("validate-model");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("Narayanan et al. 2021", "(calibration row)", "|error| over the other 9 rows: mean ");
        assertThat(r.out().lines().filter(l -> l.matches("(1\\.7b|3\\.6b|7\\.5b|18b|39b|76b|145b|310b|530b|1t) .*"))).hasSize(10);
        assertThat(r.out()).containsPattern("1t +8 +64 +6 +3072 +3072 +1 +1 1f1b +512 ");
        assertThat(r.out()).containsPattern("76b +8 +4 +32 +1024 +1792 +2 +3 interleaved +28 ");
    }

    /**
     * The whole workflow: plan at efficiency 0.5, calibrate to that step, and the written block (included as the
     * scenario's hardware) plans the same step again.
     */
    @Test
    void calibrateWritesAHardwareBlockThatReproducesTheStep() throws IOException {
        Path scenario = dir.resolve("s.yaml");
        String body = """
                name: s
                model: { preset: gpt-7.5b }
                parallelism: { pipeline: 4, data: 2, tensor: 2 }
                batch: { microBatchSize: 2, microBatches: 8 }
                training: { schedule: 1f1b, recompute: selective }
                """;
        Files.writeString(scenario, body + "hardware: { device: a100-80gb, efficiency: 0.3, frameworkOverheadGB: 3.5, "
                + "p2pScatterGather: true }\n");
        double measured = step(CliTest.run("plan", "--json", "--set", "hardware.efficiency=0.45", scenario.toString()).out());

        Path block = dir.resolve("hardware.yaml");
        CliTest.Result r = CliTest.run("calibrate", scenario.toString(), "--step-seconds", Double.toString(measured),
                "--out", block.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("hardware.efficiency  0.4500 (the scenario has 0.3000)", "rms relative error 0.00%");
        assertThat(Files.readString(block)).contains("hardware:\n  device: a100-80gb\n", "  efficiency: 0.4500\n",
                "  frameworkOverheadGB: 3.5\n", "  p2pScatterGather: true\n");

        Path calibrated = dir.resolve("calibrated.yaml");
        Files.writeString(calibrated, body + Files.readString(block));
        assertThat(step(CliTest.run("plan", "--json", calibrated.toString()).out())).isEqualTo(measured);
    }

    @Test
    void badInputIsALocatedLineAndExitTwo() throws IOException {
        Path scenario = dir.resolve("s.yaml");
        Files.writeString(scenario, """
                model: { preset: gpt-1.7b }
                hardware: { device: a100-80gb }
                parallelism: { pipeline: 2 }
                batch: { microBatchSize: 1, microBatches: 4 }
                """);
        CliTest.Result none = CliTest.run("calibrate", scenario.toString());
        assertThat(none.code()).isEqualTo(2);
        assertThat(none.err()).contains("calibrate: give --step-seconds SECONDS, or per-phase times in the scenario's costs block");
        CliTest.Result negative = CliTest.run("calibrate", scenario.toString(), "--step-seconds", "-1");
        assertThat(negative.code()).isEqualTo(2);
        assertThat(negative.err()).contains("--step-seconds must be a number > 0, got -1.0");
        CliTest.Result tooFast = CliTest.run("calibrate", scenario.toString(), "--step-seconds", "1e-9");
        assertThat(tooFast.code()).isEqualTo(2);
        assertThat(tooFast.err()).contains("--step-seconds 1.0E-9: no efficiency in (0, 1] gives this step")
                .doesNotContain("Exception");
        CliTest.Result badKey = CliTest.run("plan", "--set", "hardware.attention=fast", scenario.toString());
        assertThat(badKey.code()).isEqualTo(2);
        assertThat(badKey.err()).contains("hardware.attention");
    }

    private static double step(String planJson) throws IOException {
        return new ObjectMapper().readTree(planJson).get("stepTimeSeconds").asDouble();
    }
}
