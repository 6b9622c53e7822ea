package dev.pipelab.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.OptionalDouble;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CostModelTest {

    private static final ModelSpec LLAMA2_70B = ModelPresets.find("llama2-70b").orElseThrow();
    private static final ModelSpec GPT3_175B = ModelPresets.find("gpt3-175b").orElseThrow();

    /** The article's LLaMA-2 70B: 70e9 parameters (override), s = 4096. */
    private static final ModelSpec ARTICLE = new ModelSpec("llama2-70b", 80, 8192, 64, 8, 28672, 32000, 4096,
            Mlp.SWIGLU, false, OptionalDouble.of(70e9));

    // ------------------------------------------------------------ parameters

    @Test
    void gqaSwigluLayerParameters() {
        CostModel c = new CostModel(LLAMA2_70B, 1, 1, false);
        long h = 8192;
        assertThat(c.kvWidth()).isEqualTo(1024);
        // attention h·(h + 2·1024) + h·h, MLP 3·h·28672
        assertThat(c.layerParameters()).isEqualTo(h * (h + 2 * 1024) + h * h + 3 * h * 28672);
        assertThat(c.embeddingParameters()).isEqualTo(32000L * 8192);
        assertThat(c.outputParameters()).isEqualTo(32000L * 8192);
        assertThat(c.totalParameters()).isEqualTo(80 * c.layerParameters() + 2 * 32000L * 8192);
        assertThat(c.totalParameters()).isEqualTo(68_975_329_280L);
        assertThat(c.parametersForMemory()).isEqualTo(68_975_329_280.0);
    }

    @Test
    void mhaGeluLayerIsTwelveHSquaredAndTiedOutputIsFree() {
        CostModel c = new CostModel(GPT3_175B, 1, 1, false);
        long h = 12288;
        assertThat(c.layerParameters()).isEqualTo(12 * h * h);
        assertThat(c.outputParameters()).isZero();
        assertThat(c.totalParameters()).isEqualTo(96 * 12 * h * h + 50257 * h);
    }

    @Test
    void parametersOverrideIsUsedForMemoryOnly() {
        CostModel c = new CostModel(ARTICLE, 8, 1, false);
        assertThat(c.parametersForMemory()).isEqualTo(70e9);
        assertThat(c.totalParameters()).isEqualTo(68_975_329_280L);
    }

    /** The article: 140 + 140 + 840 + 730 = 1850 GB for LLaMA-2 70B, s = 4096, b = 8, selective, t = 1. */
    @Test
    void theArticlesMemoryBreakdown() {
        CostModel c = new CostModel(ARTICLE, 8, 1, false);
        Optimizer o = Optimizer.ADAM_MIXED;
        double params = c.parametersForMemory() * o.weightBytesPerParameter();
        double grads = c.parametersForMemory() * o.gradientBytesPerParameter();
        double state = c.parametersForMemory() * o.stateBytesPerParameter();
        long activations = 80 * c.layerActivationBytes(Recompute.SELECTIVE);
        assertThat(params).isEqualTo(140e9);
        assertThat(grads).isEqualTo(140e9);
        assertThat(state).isEqualTo(840e9);
        // 4096 · 8 · 8192 · 80 · (10 + 24) bytes
        assertThat(activations).isEqualTo(730_144_440_320L);
        assertThat(Math.round((params + grads + state + activations) / 1e9)).isEqualTo(1850);
    }

    // ------------------------------------------------------------ activations (Korthikanti et al. 2022)

    @Test
    void activationBytesTensorOneAllVariants() {
        // gpt3-175b, b = 2: sbh = 2048·2·12288; 5·a·s/h = 5·96·2048/12288 = 80
        long sbh = 2048L * 2 * 12288;
        for (boolean sp : new boolean[] {false, true}) {
            CostModel c = new CostModel(GPT3_175B, 2, 1, sp);
            assertThat(c.layerActivationBytes(Recompute.NONE)).isEqualTo(sbh * (34 + 80));
            assertThat(c.layerActivationBytes(Recompute.SELECTIVE)).isEqualTo(sbh * 34);
            assertThat(c.layerActivationBytes(Recompute.FULL)).isEqualTo(2 * sbh);
        }
    }

    @Test
    void activationBytesWithTensorParallelism() {
        // llama2-70b, b = 1, t = 8: sbh = 4096·8192; 5·a·s/h = 5·64·4096/8192 = 160
        long sbh = 4096L * 8192;
        CostModel tp = new CostModel(LLAMA2_70B, 1, 8, false);
        assertThat(tp.layerActivationBytes(Recompute.NONE)).isEqualTo(sbh * (10 + 24 / 8 + 160 / 8));
        assertThat(tp.layerActivationBytes(Recompute.SELECTIVE)).isEqualTo(sbh * (10 + 3));
        assertThat(tp.layerActivationBytes(Recompute.FULL)).isEqualTo(2 * sbh);
        CostModel sp = new CostModel(LLAMA2_70B, 1, 8, true);
        assertThat(sp.layerActivationBytes(Recompute.NONE)).isEqualTo(sbh / 8 * (34 + 160));
        assertThat(sp.layerActivationBytes(Recompute.SELECTIVE)).isEqualTo(sbh / 8 * 34);
        assertThat(sp.layerActivationBytes(Recompute.FULL)).isEqualTo(2 * sbh / 8);
    }

    @Test
    void activationBytesRoundUpWhenTensorDoesNotDivide() {
        // s = 1, b = 1, h = 7, t = 5, selective without SP: 7·10 + 7·24/5 = 70 + 33.6 -> 104
        ModelSpec tiny = new ModelSpec("tiny", 1, 7, 1, 1, 28, 10, 1, Mlp.GELU, true, OptionalDouble.empty());
        assertThat(new CostModel(tiny, 1, 5, false).layerActivationBytes(Recompute.SELECTIVE)).isEqualTo(104);
        // with SP: 7·34/5 = 47.6 -> 48
        assertThat(new CostModel(tiny, 1, 5, true).layerActivationBytes(Recompute.SELECTIVE)).isEqualTo(48);
    }

    /** Exhaustive over b in [1, 4], t in {1, 2, 4, 8}, sequence parallelism on and off: 32 cases. */
    @Test
    void activationBytesFollowTheFormulaAndOrder() {
        ModelSpec m = new ModelSpec("m", 4, 1024, 16, 4, 4096, 1000, 512, Mlp.SWIGLU, false, OptionalDouble.empty());
        int cases = 0;
        for (int b = 1; b <= 4; b++) {
            for (int tExp = 0; tExp <= 3; tExp++) {
                for (boolean sp : new boolean[] {false, true}) {
                    int t = 1 << tExp;
                    String in = String.format("b=%d t=%d sp=%b", b, t, sp);
                    CostModel c = new CostModel(m, b, t, sp);
                    double sbh = 512.0 * b * 1024;
                    double scores = 5.0 * 16 * 512 / 1024;
                    double none = sp ? sbh / t * (34 + scores) : sbh * (10 + 24.0 / t + scores / t);
                    double selective = sp ? sbh * 34 / t : sbh * (10 + 24.0 / t);
                    double full = sp ? 2 * sbh / t : 2 * sbh;
                    assertThat(c.layerActivationBytes(Recompute.NONE)).as("NONE %s", in).isEqualTo((long) none);
                    assertThat(c.layerActivationBytes(Recompute.SELECTIVE)).as("SELECTIVE %s", in)
                            .isEqualTo((long) selective);
                    assertThat(c.layerActivationBytes(Recompute.FULL)).as("FULL %s", in).isEqualTo((long) full);
                    assertThat(c.layerActivationBytes(Recompute.NONE)).as("NONE > SELECTIVE %s", in)
                            .isGreaterThan(c.layerActivationBytes(Recompute.SELECTIVE));
                    assertThat(c.layerActivationBytes(Recompute.SELECTIVE)).as("SELECTIVE > FULL %s", in)
                            .isGreaterThan(c.layerActivationBytes(Recompute.FULL));
                    cases++;
                }
            }
        }
        assertThat(cases).isEqualTo(32);
    }

    // ------------------------------------------------------------ FLOPs

    @Test
    void mhaForwardIsNarayanans24bsh2Plus4bs2h() {
        CostModel c = new CostModel(GPT3_175B, 4, 1, false);
        double b = 4, s = 2048, h = 12288;
        double expected = 24 * b * s * h * h + 4 * b * s * s * h;
        assertThat(c.layerForwardFlops()).isCloseTo(expected, within(expected * 1e-15));
        CostModel tp = new CostModel(GPT3_175B, 4, 8, false);
        assertThat(tp.layerForwardFlops()).isCloseTo(expected / 8, within(expected * 1e-15));
    }

    @Test
    void gqaSwigluForwardTerms() {
        CostModel c = new CostModel(LLAMA2_70B, 1, 1, false);
        double s = 4096, h = 8192, kv = 1024, f = 28672;
        double expected = 2 * s * h * (h + 2 * kv) + 2 * s * s * h + 2 * s * s * h + 2 * s * h * h + 2 * s * h * f * 3;
        assertThat(c.layerForwardFlops()).isCloseTo(expected, within(expected * 1e-15));
    }

    @Test
    void backwardSplitsAndRecompute() {
        CostModel c = new CostModel(GPT3_175B, 1, 2, false);
        double s = 2048, h = 12288;
        double gemm = 24 * s * h * h / 2;
        double core = 4 * s * s * h / 2;
        assertThat(c.layerBackwardWeightFlops()).isCloseTo(gemm, within(gemm * 1e-15));
        assertThat(c.layerBackwardInputFlops()).isCloseTo(gemm + 2 * core, within(gemm * 1e-15));
        assertThat(c.layerRecomputeFlops(Recompute.NONE)).isZero();
        assertThat(c.layerRecomputeFlops(Recompute.SELECTIVE)).isEqualTo(core);
        assertThat(c.layerRecomputeFlops(Recompute.FULL)).isEqualTo(c.layerForwardFlops());
    }

    private static final int BACKWARD_RANDOM_TRIES = 64;

    /**
     * Every combination of the small dimensions (GQA group exponent in [0, 3], t in {1, 2, 4, 8}, SwiGLU or GELU:
     * 32 combinations), each crossed with the 8 corners of layers in [1, 64], head-dimension units in [1, 128] and
     * b in [1, 16], and with {@value #BACKWARD_RANDOM_TRIES} seeded random draws of those three: 2304 cases.
     */
    @Test
    void backwardInputPlusWeightIsTwiceForward() {
        Random random = new Random(0x5EED_F10BL);
        int[] layersEdges = {1, 64};
        int[] headDimEdges = {1, 128};
        int[] bEdges = {1, 16};
        int cases = 0;
        for (int gqaExp = 0; gqaExp <= 3; gqaExp++) {
            for (int tExp = 0; tExp <= 3; tExp++) {
                for (boolean swiglu : new boolean[] {false, true}) {
                    for (int layers : layersEdges) {
                        for (int headDimUnits : headDimEdges) {
                            for (int b : bEdges) {
                                checkBackwardIsTwiceForward(layers, headDimUnits, gqaExp, b, tExp, swiglu);
                                cases++;
                            }
                        }
                    }
                    for (int i = 0; i < BACKWARD_RANDOM_TRIES; i++) {
                        checkBackwardIsTwiceForward(random.nextInt(1, 65), random.nextInt(1, 129), gqaExp,
                                random.nextInt(1, 17), tExp, swiglu);
                        cases++;
                    }
                }
            }
        }
        assertThat(cases).isEqualTo(32 * (8 + BACKWARD_RANDOM_TRIES));
    }

    private static void checkBackwardIsTwiceForward(int layers, int headDimUnits, int gqaExp, int b, int tExp,
                                                    boolean swiglu) {
        String in = String.format("layers=%d headDimUnits=%d gqaExp=%d b=%d tExp=%d swiglu=%b",
                layers, headDimUnits, gqaExp, b, tExp, swiglu);
        int heads = 8;
        int h = heads * headDimUnits * 8;
        ModelSpec m = new ModelSpec("m", layers, h, heads, heads >> gqaExp, 3 * h, 5000, 1024,
                swiglu ? Mlp.SWIGLU : Mlp.GELU, !swiglu, OptionalDouble.empty());
        CostModel c = new CostModel(m, b, 1 << tExp, false);
        double f = c.layerForwardFlops();
        assertThat(c.layerBackwardInputFlops() + c.layerBackwardWeightFlops()).as(in)
                .isCloseTo(2 * f, within(2 * f * 1e-14));
        assertThat(c.layerRecomputeFlops(Recompute.FULL)).as(in).isEqualTo(f);
    }

    @Test
    void outputLayerFlops() {
        CostModel c = new CostModel(LLAMA2_70B, 2, 4, false);
        double expected = 2.0 * 2 * 4096 * 8192 * 32000 / 4;
        assertThat(c.outputLayerForwardFlops()).isEqualTo(expected);
        assertThat(c.outputLayerBackwardInputFlops()).isEqualTo(expected);
        assertThat(c.outputLayerBackwardWeightFlops()).isEqualTo(expected);
    }

    // ------------------------------------------------------------ communication

    @Test
    void p2pBytesAreTheBf16ActivationShardedBySequenceParallelism() {
        assertThat(new CostModel(ARTICLE, 8, 1, false).p2pBytes()).isEqualTo(2L * 4096 * 8 * 8192);
        assertThat(new CostModel(ARTICLE, 8, 8, false).p2pBytes()).isEqualTo(2L * 4096 * 8 * 8192);
        assertThat(new CostModel(ARTICLE, 8, 8, true).p2pBytes()).isEqualTo(2L * 4096 * 8 * 8192 / 8);
    }

    /**
     * Megatron-LM's scatter/gather (Narayanan et al. 2021 §4.1): the link carries 1/t of the message and the receiver
     * all-gathers it over the tensor-parallel link; not with t = 1, not with sequence parallelism, and not when the
     * s·b·h elements do not split evenly (2^28 over t = 3; Megatron's override_scatter_gather_tensors_in_pipeline sends them whole).
     */
    @Test
    void scatterGatherSendsOneTthAndGathersTheWholeMessage() {
        LinkSpec nvlink = new LinkSpec("nvlink3", 300e9, 2e-6);
        long message = 2L * 4096 * 8 * 8192;
        CostModel t8 = new CostModel(ARTICLE, 8, 8, false);
        assertThat(t8.p2pLinkBytes(false)).isEqualTo(message);
        assertThat(t8.p2pLinkBytes(true)).isEqualTo(message / 8);
        assertThat(t8.p2pGatherSeconds(false, nvlink)).isZero();
        assertThat(t8.p2pGatherSeconds(true, nvlink)).isEqualTo(Collectives.allGatherSeconds(message, 8, nvlink))
                .isCloseTo(7 * (2e-6 + message / 8 / 300e9), within(1e-15));
        for (CostModel off : List.of(new CostModel(ARTICLE, 8, 1, false), new CostModel(ARTICLE, 8, 8, true),
                new CostModel(ARTICLE, 8, 3, false))) {
            assertThat(off.p2pLinkBytes(true)).isEqualTo(off.p2pBytes());
            assertThat(off.p2pGatherSeconds(true, nvlink)).isZero();
        }
    }

    @Test
    void tensorParallelCommunicationIsTwoAllReducesOfTheLayerOutput() {
        LinkSpec nvlink = LinkPresets.find("nvlink4").orElseThrow();
        long bytes = 2L * 4096 * 1 * 8192;
        assertThat(new CostModel(LLAMA2_70B, 1, 1, false).tensorParallelSecondsPerLayer(nvlink)).isZero();
        CostModel tp = new CostModel(LLAMA2_70B, 1, 8, false);
        double expected = 2 * Collectives.ringAllReduceSeconds(bytes, 8, nvlink);
        assertThat(tp.tensorParallelSecondsPerLayer(nvlink)).isEqualTo(expected);
        assertThat(tp.tensorParallelBackwardSecondsPerLayer(nvlink)).isEqualTo(expected);
        // closed form: 2 · (2·7/8 · N / bw + 14 · latency)
        double closed = 2 * (2.0 * 7 / 8 * bytes / 450e9 + 14 * 2e-6);
        assertThat(expected).isCloseTo(closed, within(closed * 1e-12));
        CostModel sp = new CostModel(LLAMA2_70B, 1, 8, true);
        assertThat(sp.tensorParallelSecondsPerLayer(nvlink)).isCloseTo(expected, within(expected * 1e-12));
        assertThat(tp.tensorParallelSecondsPerLayer(LinkSpec.FREE)).isZero();
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> new CostModel(LLAMA2_70B, 0, 1, false)).hasMessageContaining("microBatchSize");
        assertThatThrownBy(() -> new CostModel(LLAMA2_70B, 1, 0, false)).hasMessageContaining("tensor");
    }
}
