package dev.pipelab.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

import java.util.List;

class LayerOpsTest {

    private static final List<String> SHAPES = List.of("gpt-1.7b", "gpt-145b", "gpt-1t", "llama2-70b", "llama3-405b");

    /**
     * The kernels' GEMMs are the FLOPs CostModel counts (Narayanan et al. 2021, Appendix; GQA and SwiGLU as in
     * CostModel): F, B and W, and the output layer's, for several shapes, micro-batch sizes and tensor widths.
     */
    @Test
    void materialisedGemmsAreCostModelsFlops() {
        for (String name : SHAPES) {
            ModelSpec m = ModelPresets.find(name).orElseThrow();
            for (int t : new int[] {1, 8}) {
                for (int b : new int[] {1, 4}) {
                    CostModel cm = new CostModel(m, b, t, false);
                    LayerOps ops = new LayerOps(m, b, t, false, Attention.MATERIALISED);
                    String as = name + " t=" + t + " b=" + b;
                    assertClose(as, LayerOps.flops(ops.forward()), cm.layerForwardFlops());
                    assertClose(as, LayerOps.flops(ops.backwardInput()), cm.layerBackwardInputFlops());
                    assertClose(as, LayerOps.flops(ops.backwardWeight()), cm.layerBackwardWeightFlops());
                    assertClose(as, LayerOps.flops(ops.recompute(Recompute.SELECTIVE)), cm.layerRecomputeFlops(Recompute.SELECTIVE));
                    assertClose(as, LayerOps.flops(ops.recompute(Recompute.FULL)), cm.layerRecomputeFlops(Recompute.FULL));
                    assertThat(ops.recompute(Recompute.NONE)).isEmpty();
                    // Megatron's vocabulary-parallel logits: V/t columns per rank (51,200 and 32,000 divide by 8)
                    assertClose(as, LayerOps.flops(ops.outputForward()), cm.outputLayerForwardFlops());
                    assertClose(as, LayerOps.flops(ops.outputBackwardInput()), cm.outputLayerBackwardInputFlops());
                    assertClose(as, LayerOps.flops(ops.outputBackwardWeight()), cm.outputLayerBackwardWeightFlops());
                }
            }
        }
    }

    /**
     * Dao et al. 2022: the fused kernel computes the same forward FLOPs, writes no s² scores, and its backward
     * recomputes the scores: five s²·d GEMMs against the materialised four.
     */
    @Test
    void flashAttentionMovesNoScoresAndRecomputesThemInTheBackward() {
        ModelSpec m = ModelPresets.find("gpt-145b").orElseThrow();
        LayerOps mat = new LayerOps(m, 2, 8, false, Attention.MATERIALISED);
        LayerOps flash = new LayerOps(m, 2, 8, false, Attention.FLASH);
        assertThat(LayerOps.flops(flash.forward())).isEqualTo(LayerOps.flops(mat.forward()));
        double core = LayerOps.flops(mat.recompute(Recompute.SELECTIVE)); // 4bs²h/t: scores and context
        assertThat(LayerOps.flops(flash.backwardInput()) - LayerOps.flops(mat.backwardInput())).isCloseTo(core / 2, within(core * 1e-12));
        // the materialised forward moves softmax (4 B) and dropout (5 B) per score element; flash none of it
        double scores = 2.0 * (m.heads() / 8) * m.seqLength() * (double) m.seqLength();
        double bytesSaved = bytes(mat.forward()) - bytes(flash.forward());
        assertThat(bytesSaved).isGreaterThan(9 * scores);
        assertThat(flash.forward()).noneMatch(op -> op.name().contains("softmax") || op.name().contains("attention-dropout"));
    }

    /**
     * Korthikanti et al. 2022 §4.1 / §4.2.2: the layer norm reads and writes the 2sbh-byte input; with sequence
     * parallelism each rank does 1/t of it, without it every rank does all of it. The GELU input is 8sbh/t bytes.
     */
    @Test
    void memoryBoundKernelsMoveKorthikantisActivations() {
        ModelSpec m = ModelPresets.find("gpt-18b").orElseThrow();
        double sbh = 4.0 * m.seqLength() * m.hidden();
        LayerOps plain = new LayerOps(m, 4, 8, false, Attention.MATERIALISED);
        LayerOps sp = new LayerOps(m, 4, 8, true, Attention.MATERIALISED);
        assertThat(named(plain.forward(), "layernorm1").bytes()).isEqualTo(2 * sbh + 2 * sbh);
        assertThat(named(sp.forward(), "layernorm1").bytes()).isEqualTo((2 * sbh + 2 * sbh) / 8);
        assertThat(named(plain.forward(), "bias-gelu").bytes()).isEqualTo(2 * (8 * sbh / 8)); // read and write 4h/t per token, bf16
        assertThat(named(plain.forward(), "attention-dropout").bytes())
                .isEqualTo(5.0 * 4 * (m.heads() / 8) * m.seqLength() * (double) m.seqLength()); // 2as²b/t read, write; as²b/t mask
    }

    /** Timing follows the ops: a bigger micro-batch of the same shape takes longer, and the sum is the ops' sum. */
    @Test
    void secondsAreTheSumOfTheKernels() {
        DeviceSpec a100 = DevicePresets.find("a100-80gb").orElseThrow();
        LayerOps ops = new LayerOps(ModelPresets.find("gpt-39b").orElseThrow(), 4, 8, false, Attention.MATERIALISED);
        double sum = 0;
        for (Op op : ops.forward()) sum += op.seconds(a100);
        assertThat(LayerOps.seconds(ops.forward(), a100)).isEqualTo(sum);
        OpSeconds s = OpSeconds.of(ops, a100, Recompute.FULL);
        assertThat(s.layerForward()).isEqualTo(sum);
        assertThat(s.layerRecompute()).isEqualTo(sum);
        // at least the GEMMs at peak, and the memory-bound kernels make it longer still
        assertThat(sum).isGreaterThan(LayerOps.flops(ops.forward()) / a100.peakFlopsPerSecond());
    }

    private static Op named(List<Op> ops, String name) {
        return ops.stream().filter(op -> op.name().equals(name)).findFirst().orElseThrow();
    }

    private static double bytes(List<Op> ops) {
        return ops.stream().mapToDouble(Op::bytes).sum();
    }

    private static void assertClose(String as, double actual, double expected) {
        assertThat(actual).as(as).isCloseTo(expected, within(expected * 1e-12));
    }
}
