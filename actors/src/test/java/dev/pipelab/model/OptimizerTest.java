package dev.pipelab.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OptimizerTest {

    @Test
    void parsesScenarioNamesAndRoundTrips() {
        assertThat(Optimizer.parse("adam-mixed")).contains(Optimizer.ADAM_MIXED);
        assertThat(Optimizer.parse("adam-fp32")).contains(Optimizer.ADAM_FP32);
        assertThat(Optimizer.parse("sgd-mixed")).contains(Optimizer.SGD_MIXED);
        assertThat(Optimizer.parse("adam")).isEmpty();
        for (Optimizer o : Optimizer.values()) assertThat(Optimizer.parse(o.scenarioName())).contains(o);
    }

    @Test
    void bytesPerParameter() {
        assertThat(bytes(Optimizer.ADAM_MIXED)).containsExactly(2, 2, 12, 16);
        assertThat(bytes(Optimizer.ADAM_FP32)).containsExactly(4, 4, 8, 16);
        assertThat(bytes(Optimizer.SGD_MIXED)).containsExactly(2, 2, 8, 12);
    }

    /** The article, LLaMA-2 70B: parameters 140 GB, gradients 140 GB, Adam state 840 GB. */
    @Test
    void theArticlesMemoryForSeventyBillionParameters() {
        double p = 70e9;
        Optimizer o = Optimizer.ADAM_MIXED;
        assertThat(p * o.weightBytesPerParameter()).isEqualTo(140e9);
        assertThat(p * o.gradientBytesPerParameter()).isEqualTo(140e9);
        assertThat(p * o.stateBytesPerParameter()).isEqualTo(840e9);
    }

    @Test
    void stepTrafficAsDocumented() {
        assertThat(Optimizer.ADAM_MIXED.stepBytesTouchedPerParameter()).isEqualTo(28);
        assertThat(Optimizer.ADAM_FP32.stepBytesTouchedPerParameter()).isEqualTo(28);
        assertThat(Optimizer.SGD_MIXED.stepBytesTouchedPerParameter()).isEqualTo(20);
    }

    private static int[] bytes(Optimizer o) {
        return new int[] {o.weightBytesPerParameter(), o.gradientBytesPerParameter(), o.stateBytesPerParameter(),
                o.totalBytesPerParameter()};
    }
}
