package dev.pipelab.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OpTest {

    private static final DeviceSpec A100 = DevicePresets.find("a100-80gb").orElseThrow();

    /** A GEMM C[m x n] = A[m x k]·B[k x n]: 2mnk FLOPs; A, B read and C written once in bf16. */
    @Test
    void aGemmsFlopsAndBytes() {
        Op g = Op.gemm("g", 3, 1000, 700, 50);
        assertThat(g.flops()).isEqualTo(2.0 * 3 * 1000 * 700 * 50);
        assertThat(g.bytes()).isEqualTo(2.0 * 3 * (1000 * 50 + 50 * 700 + 1000 * 700));
        assertThat(g.tiles()).isEqualTo(3L * 4 * 6); // ceil(1000/256) x ceil(700/128) per GEMM
    }

    /**
     * NVIDIA, "Matrix Multiplication Background", Wave Quantization: 108 tiles of 256 x 128 fill the A100's 108 SMs in
     * one wave; one tile more needs a second wave that does 1/108 of the work in the time of a full one.
     */
    @Test
    void waveQuantizationOnTheA100sSms() {
        Op full = Op.gemm("full", 1, 256 * 9, 128 * 12, 4096);
        assertThat(full.tiles()).isEqualTo(108);
        assertThat(full.quantization(A100)).isEqualTo(1.0);
        assertThat(full.seconds(A100)).isEqualTo(full.flops() / 312e12);

        Op oneMore = Op.gemm("one more", 1, 256 * 9, 128 * 12 + 128, 4096);
        assertThat(oneMore.tiles()).isEqualTo(117);
        assertThat(oneMore.quantization(A100)).isEqualTo(117.0 / 216);
        // the same GEMM on H100's 132 SMs is one wave again
        assertThat(oneMore.quantization(DevicePresets.find("h100-80gb").orElseThrow())).isEqualTo(117.0 / 132);
    }

    /** Tile quantization: a 257-row output needs two tile rows, the second almost empty. */
    @Test
    void tileQuantization() {
        Op g = Op.gemm("g", 108, 257, 128, 4096);
        assertThat(g.tiles()).isEqualTo(216);
        assertThat(g.quantization(A100)).isEqualTo(257.0 / 512);
    }

    /** Roofline: a GEMM with a small inner size is bound by memory, an element-wise kernel always is. */
    @Test
    void rooflineTakesTheSlowerOfComputeAndMemory() {
        Op thin = Op.gemm("thin", 1, 256 * 108, 128, 8); // 2·k FLOPs per output element, k = 8: far below A100's 153 FLOP/B
        assertThat(thin.seconds(A100)).isEqualTo(thin.bytes() / 2039e9);
        Op ln = Op.memory("layernorm", 4e9);
        assertThat(ln.seconds(A100)).isEqualTo(4e9 / 2039e9);
        assertThat(ln.quantization(A100)).isEqualTo(1.0);
    }
}
