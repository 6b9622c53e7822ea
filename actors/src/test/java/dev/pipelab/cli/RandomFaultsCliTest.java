package dev.pipelab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code pipelab validate} reports a {@code faults.random} section: its MTBF at the scenario's size, or its errors, located. */
class RandomFaultsCliTest {

    @Test
    void validateShowsTheJobsMtbfAtItsSize() {
        // quickstart: 4 GPUs on 1 node. llama3-54d per hour: 268·4/(16,384·1,296) GPU + 88/(2,048·1,296) node kinds
        // + 63/1,296 job kinds = 0.0486948, so an MTBF of 20.5 h; a thousand times as often: 73.9 s
        CliTest.Result r = CliTest.run("validate", CliTest.scenario("quickstart.yaml"), "--set", "faults.random.preset=llama3-54d");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains(", random faults llama3-54d: MTBF 20.5 h)");
        CliTest.Result scaled = CliTest.run("validate", CliTest.scenario("quickstart.yaml"), "--set", "faults.random.preset=llama3-54d",
                "--set", "faults.random.scale=1000");
        assertThat(scaled.out()).contains(", random faults llama3-54d x1000: MTBF 73.9");
    }

    @Test
    void validateReportsEveryBadRateWithExitTwo() {
        CliTest.Result r = CliTest.run("validate", CliTest.scenario("quickstart.yaml"), "--set", "faults.random.preset=llama3",
                "--set", "faults.random.kinds.gpu.perHour=-1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("faults.random.preset: must be one of llama3-54d, got 'llama3' (from --set faults.random.preset=llama3)",
                "faults.random.kinds.gpu.perHour: must be >= 0, got -1 (from --set faults.random.kinds.gpu.perHour=-1)", "2 errors");
    }
}
