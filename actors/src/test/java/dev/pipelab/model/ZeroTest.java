package dev.pipelab.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.RoundingMode;
import org.junit.jupiter.api.Test;

class ZeroTest {

    private static final double PSI = 7.5e9;

    /**
     * Rajbhandari et al. 2020 (ZeRO), Figure 1: Ψ = 7.5B, N_d = 64, K = 12 (mixed-precision Adam): 120 GB, 31.4 GB,
     * 16.6 GB and 1.9 GB per device. The formulas are exact; the figure prints them to one decimal.
     */
    @Test
    void figureOneOfTheZeroPaper() {
        Optimizer adam = Optimizer.ADAM_MIXED;
        assertThat(Zero.NONE.modelStateBytes(PSI, adam, 64)).isEqualTo(120e9);
        assertThat(Zero.OPTIMIZER.modelStateBytes(PSI, adam, 64)).isEqualTo(31.40625e9);
        assertThat(Zero.GRADIENTS.modelStateBytes(PSI, adam, 64)).isEqualTo(16.640625e9);
        assertThat(Zero.PARAMETERS.modelStateBytes(PSI, adam, 64)).isEqualTo(1.875e9);
        assertThat(gb(Zero.NONE, 64, 1)).isEqualTo("120.0");
        assertThat(gb(Zero.OPTIMIZER, 64, 1)).isEqualTo("31.4");
        assertThat(gb(Zero.GRADIENTS, 64, 1)).isEqualTo("16.6");
        assertThat(gb(Zero.PARAMETERS, 64, 1)).isEqualTo("1.9");
    }

    /** The same paper, Table 1, the 7.5B model's column (P_os, P_os+g, P_os+g+p in GB) for each DP degree. */
    @Test
    void tableOneSevenPointFiveBillionColumn() {
        String[][] rows = {
                {"1", "120", "120", "120"},
                {"4", "52.5", "41.3", "30"},
                {"16", "35.6", "21.6", "7.5"},
                {"64", "31.4", "16.6", "1.88"},
                {"256", "30.4", "15.4", "0.47"},
                {"1024", "30.1", "15.1", "0.12"},
        };
        for (String[] row : rows) {
            int d = Integer.parseInt(row[0]);
            assertThat(gbAsPrinted(Zero.OPTIMIZER, d, row[1])).as("P_os at N_d = %d", d).isEqualTo(row[1]);
            assertThat(gbAsPrinted(Zero.GRADIENTS, d, row[2])).as("P_os+g at N_d = %d", d).isEqualTo(row[2]);
            assertThat(gbAsPrinted(Zero.PARAMETERS, d, row[3])).as("P_os+g+p at N_d = %d", d).isEqualTo(row[3]);
        }
    }

    /** Each stage shards exactly the states the paper names, per state. */
    @Test
    void eachStageShardsItsStates() {
        Optimizer adam = Optimizer.ADAM_MIXED;
        double p = 1000;
        int d = 8;
        assertThat(new double[] {Zero.NONE.weightBytes(p, adam, d), Zero.NONE.gradientBytes(p, adam, d), Zero.NONE.optimizerBytes(p, adam, d)})
                .containsExactly(2000, 2000, 12000);
        assertThat(new double[] {Zero.OPTIMIZER.weightBytes(p, adam, d), Zero.OPTIMIZER.gradientBytes(p, adam, d), Zero.OPTIMIZER.optimizerBytes(p, adam, d)})
                .containsExactly(2000, 2000, 1500);
        assertThat(new double[] {Zero.GRADIENTS.weightBytes(p, adam, d), Zero.GRADIENTS.gradientBytes(p, adam, d), Zero.GRADIENTS.optimizerBytes(p, adam, d)})
                .containsExactly(2000, 250, 1500);
        assertThat(new double[] {Zero.PARAMETERS.weightBytes(p, adam, d), Zero.PARAMETERS.gradientBytes(p, adam, d), Zero.PARAMETERS.optimizerBytes(p, adam, d)})
                .containsExactly(250, 250, 1500);
    }

    /**
     * Megatron-LM's distributed optimizer is stage 1: its table of bytes per parameter (docs, "Distributed Optimizer")
     * gives {@code 8 + 8/d} for fp32 parameters and gradients, which is adam-fp32 under stage 1.
     */
    @Test
    void megatronDistributedOptimizerIsStageOne() {
        for (int d : new int[] {1, 2, 4, 8, 64}) {
            assertThat(Zero.OPTIMIZER.modelStateBytes(1, Optimizer.ADAM_FP32, d)).isEqualTo(8 + 8.0 / d);
        }
    }

    /** ZeRO §7.2: stages 1 and 2 move the all-reduce's volume; stage 3 moves 1.5 times it. */
    @Test
    void communicationVolume() {
        assertThat(Zero.NONE.ringPasses()).isEqualTo(2);
        assertThat(Zero.OPTIMIZER.ringPasses()).isEqualTo(2);
        assertThat(Zero.GRADIENTS.ringPasses()).isEqualTo(2);
        assertThat(Zero.PARAMETERS.ringPasses()).isEqualTo(3);
        assertThat((double) Zero.PARAMETERS.ringPasses() / Zero.NONE.ringPasses()).isEqualTo(1.5);
    }

    @Test
    void parsesStages() {
        for (Zero z : Zero.values()) assertThat(Zero.of(z.stage())).contains(z);
        assertThat(Zero.of(4)).isEmpty();
        assertThat(Zero.of(-1)).isEmpty();
    }

    private static String gb(Zero z, int d, int decimals) {
        return BigDecimal.valueOf(z.modelStateBytes(PSI, Optimizer.ADAM_MIXED, d) / 1e9).setScale(decimals, RoundingMode.HALF_UP).toPlainString();
    }

    /** Rounded to as many significant decimals as the table prints. */
    private static String gbAsPrinted(Zero z, int d, String printed) {
        int dot = printed.indexOf('.');
        return gb(z, d, dot < 0 ? 0 : printed.length() - dot - 1);
    }
}
