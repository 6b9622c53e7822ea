package dev.pipelab.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class StepFlopsTest {

    /**
     * Narayanan et al. 2021, §5.1 / Appendix: without recomputation an iteration of batch B costs
     * {@code 72·B·s·L·h²·(1 + s/(6h) + V/(12hL))} FLOPs for a GPT (MHA, GELU, f = 4h).
     */
    @Test
    void modelFlopsMatchNarayanansClosedForm() {
        for (String name : ModelPresets.names()) {
            if (!name.startsWith("gpt")) continue;
            ModelSpec m = ModelPresets.find(name).orElseThrow();
            long batch = 1536;
            double s = m.seqLength(), l = m.layers(), h = m.hidden(), v = m.vocab();
            double expected = 72 * batch * s * l * h * h * (1 + s / (6 * h) + v / (12 * h * l));
            assertThat(StepFlops.modelFlops(m, batch)).as(name).isCloseTo(expected, within(expected * 1e-12));
        }
    }

    /** With full recomputation Narayanan's form becomes {@code 96·B·s·L·h²·(1 + s/(6h) + V/(16hL))}. */
    @Test
    void fullRecomputeMatchesNarayanans96Form() {
        ModelSpec m = ModelPresets.find("gpt-1t").orElseThrow();
        long batch = 3072;
        double s = m.seqLength(), l = m.layers(), h = m.hidden(), v = m.vocab();
        double expected = 96 * batch * s * l * h * h * (1 + s / (6 * h) + v / (16 * h * l));
        assertThat(StepFlops.hardwareFlops(m, batch, Recompute.FULL)).isCloseTo(expected, within(expected * 1e-12));
    }

    /** docs/architecture.md, Cost model: training FLOPs ≈ 6 · parameters · tokens; the s² attention terms add a few percent. */
    @Test
    void roughlySixTimesParametersTimesTokens() {
        ModelSpec m = ModelPresets.find("llama2-70b").orElseThrow();
        double sixPT = 6.0 * new CostModel(m, 1, 1, false).totalParameters() * m.seqLength() * 8;
        assertThat(StepFlops.modelFlops(m, 8)).isBetween(sixPT, sixPT * 1.1);
    }

    @Test
    void selectiveRecomputeAddsOnlyTheAttentionCore() {
        ModelSpec m = ModelPresets.find("llama2-70b").orElseThrow();
        double core = 4.0 * m.seqLength() * m.seqLength() * m.hidden() * m.layers() * 8;
        assertThat(StepFlops.hardwareFlops(m, 8, Recompute.SELECTIVE) - StepFlops.modelFlops(m, 8))
                .isCloseTo(core, within(core * 1e-9));
    }

    /**
     * Narayanan et al. 2021, Table 1: the 1008.0B model on 3072 A100s at batch 3072 sustains 163 TFLOP/s per
     * GPU counting the 96·… (recompute-inclusive) FLOPs, i.e. 52% of 312; the implied step time gives back 52%.
     */
    @Test
    void mfuIsAchievedOverPeak() {
        ModelSpec m = ModelPresets.find("gpt-1t").orElseThrow();
        DeviceSpec a100 = DevicePresets.find("a100-80gb").orElseThrow();
        double hardware = StepFlops.hardwareFlops(m, 3072, Recompute.FULL);
        double seconds = hardware / (3072 * 163e12);
        assertThat(StepFlops.mfu(hardware, seconds, 3072, a100)).isCloseTo(163.0 / 312, within(1e-12));
        assertThat(StepFlops.mfu(StepFlops.modelFlops(m, 3072), seconds, 3072, a100))
                .isCloseTo(163.0 / 312 * 3 / 4, within(0.01));
    }
}
