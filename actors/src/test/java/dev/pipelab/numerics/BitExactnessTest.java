package dev.pipelab.numerics;

import dev.pipelab.model.Recompute;
import dev.pipelab.schedule.PassTimes;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The pipelined executor reproduces {@link SequentialTrainer} bit for bit: every step's loss and every final
 * weight ({@code doubleToRawLongBits}) for every schedule × recomputation policy × p × m, for the MLP (SGD with
 * momentum) and the transformer (Adam); and across data-parallel replicas.
 */
class BitExactnessTest {

    static final int STEPS = 3;
    static final int MICRO_BATCH_SIZE = 2;
    static final int LAYERS = 8;

    enum Kind { MLP, TRANSFORMER }

    static RealModel model(Kind kind) {
        return kind == Kind.MLP
                ? RealModel.mlp(6, 8, LAYERS, 4, Activation.GELU, true, Loss.CROSS_ENTROPY, 42)
                : RealModel.transformer(8, 4, 8, LAYERS, 2, Activation.GELU, true, 42);
    }

    static DataSource data(Kind kind) {
        RealModel model = model(kind);
        return kind == Kind.MLP ? TeacherData.forModel(model, MICRO_BATCH_SIZE, 9) : SequenceData.forModel(model, MICRO_BATCH_SIZE, 9);
    }

    static OptimizerSpec optimizer(Kind kind) {
        return kind == Kind.MLP ? new OptimizerSpec.Sgd(0.1, 0.9) : OptimizerSpec.Adam.of(0.01);
    }

    private static final Map<String, TrainingResult> REFERENCES = new ConcurrentHashMap<>();

    static TrainingResult reference(Kind kind, int m, int d) {
        return REFERENCES.computeIfAbsent(kind + "/" + m + "/" + d,
                k -> new SequentialTrainer(model(kind), data(kind), m, d, optimizer(kind)).train(STEPS));
    }

    static Stream<Arguments> matrix() {
        List<Arguments> out = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            for (String name : Schedules.NAMES) {
                for (Recompute policy : Recompute.values()) {
                    for (int p : new int[] {1, 2, 4}) {
                        for (int m : new int[] {1, 4, 8}) {
                            if (name.equals("interleaved") && m % p != 0) continue;
                        if (name.equals("dualpipev") && m < 2 * p) continue;
                            out.add(Arguments.of(kind, name, policy, p, m));
                        }
                    }
                }
            }
        }
        return out.stream();
    }

    static Schedule schedule(String name, Recompute policy, int p, int m) {
        Schedule s = Schedules.byName(name, p, name.equals("interleaved") || Schedules.V_SHAPED.contains(name) ? 2 : 1, m, new PassTimes(1, 2, 1, 0));
        return policy == Recompute.NONE ? s : s.withRecompute();
    }

    @ParameterizedTest(name = "{0} {1} recompute={2} p={3} m={4}")
    @MethodSource("matrix")
    void pipelinedEqualsSequentialBitForBit(Kind kind, String name, Recompute policy, int p, int m) {
        Schedule schedule = schedule(name, policy, p, m);
        PipelineTrainer trainer = new PipelineTrainer(model(kind), data(kind), schedule, policy, 1, optimizer(kind),
                PipelineTrainer.Reduction.RING);
        TrainingResult got = trainer.train(STEPS);
        assertBitIdentical(got, reference(kind, m, 1));

        // the recomputation really happened, and only where the policy says
        long forwards = 0;
        long attention = 0;
        for (StageShard s : trainer.shards()) {
            forwards += s.forwards();
            attention += s.attentionRecomputations();
        }
        long stageForwards = (long) STEPS * m * schedule.stages();
        assertThat(forwards).as("stage forwards (F + full R)").isEqualTo(policy == Recompute.FULL ? 2 * stageForwards : stageForwards);
        long expectedAttention = policy == Recompute.SELECTIVE && kind == Kind.TRANSFORMER ? (long) STEPS * m * LAYERS : 0;
        assertThat(attention).as("attention cores recomputed by selective R").isEqualTo(expectedAttention);
    }

    static void assertBitIdentical(TrainingResult got, TrainingResult want) {
        assertThat(got.losses()).hasSameSizeAs(want.losses());
        for (int i = 0; i < want.losses().size(); i++) {
            assertThat(Double.doubleToRawLongBits(got.losses().get(i))).as("loss bits of step " + i + ": got "
                    + got.losses().get(i) + ", want " + want.losses().get(i))
                    .isEqualTo(Double.doubleToRawLongBits(want.losses().get(i)));
        }
        assertThat(got.weights()).hasSameSizeAs(want.weights());
        for (int k = 0; k < want.weights().size(); k++) {
            Param g = got.weights().get(k);
            Param w = want.weights().get(k);
            assertThat(g.name()).isEqualTo(w.name());
            assertThat(Tensors.bitEqual(g.value(), w.value())).as("bits of " + w.name()).isTrue();
        }
    }

    static Stream<Arguments> dataParallel() {
        List<Arguments> out = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            for (String name : List.of("1f1b", "interleaved", "zb-h2")) {
                out.add(Arguments.of(kind, name, 2, PipelineTrainer.Reduction.RING));
                out.add(Arguments.of(kind, name, 2, PipelineTrainer.Reduction.CANONICAL));
                out.add(Arguments.of(kind, name, 4, PipelineTrainer.Reduction.CANONICAL));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} d={2} {3}")
    @MethodSource("dataParallel")
    void dataParallelIsBitIdenticalWithCanonicalOrderAndWithTheRingForTwoReplicas(Kind kind, String name, int d,
                                                                                   PipelineTrainer.Reduction reduction) {
        int p = 2;
        int m = 4;
        Recompute policy = Recompute.FULL;
        PipelineTrainer trainer = new PipelineTrainer(model(kind), data(kind), schedule(name, policy, p, m), policy, d,
                optimizer(kind), reduction);
        assertBitIdentical(trainer.train(STEPS), reference(kind, m, d));
    }

    /**
     * The plain ring with d = 4 sums chunks in rotated order, so it is not bit-identical. Losses agree within
     * 1e-12 relative. Weights agree within 1e-12 of max(1, the tensor's largest magnitude): relative to the tensor
     * for SGD, but Adam normalises each gradient element by its own running RMS, so a parameter whose true gradient
     * is zero (the attention key bias: softmax ignores a shift common to a row) is driven by rounding noise, and
     * different noise moves it by ~1e-13 absolute — that is the honest bound, not a relative one.
     */
    @Test
    void theRingWithFourReplicasAgreesWithinRounding() {
        for (Kind kind : Kind.values()) {
            int m = 4;
            PipelineTrainer trainer = new PipelineTrainer(model(kind), data(kind), schedule("1f1b", Recompute.NONE, 2, m),
                    Recompute.NONE, 4, optimizer(kind), PipelineTrainer.Reduction.RING);
            TrainingResult got = trainer.train(STEPS);
            TrainingResult want = reference(kind, m, 4);
            for (int i = 0; i < STEPS; i++) {
                assertThat(Math.abs(got.losses().get(i) - want.losses().get(i))).isLessThanOrEqualTo(1e-12 * Math.abs(want.losses().get(i)));
            }
            double worst = 0;
            for (int k = 0; k < want.weights().size(); k++) {
                double[] g = got.weights().get(k).value().data;
                double[] w = want.weights().get(k).value().data;
                double scale = 0;
                for (double x : w) scale = Math.max(scale, Math.abs(x));
                double bound = kind == Kind.MLP ? scale : Math.max(scale, 1);
                for (int i = 0; i < w.length; i++) {
                    worst = Math.max(worst, Math.abs(g[i] - w[i]) / bound);
                    assertThat(Math.abs(g[i] - w[i])).as(want.weights().get(k).name() + "[" + i + "]")
                            .isLessThanOrEqualTo(1e-12 * bound);
                }
            }
            System.out.printf("ring d=4 %s: worst weight difference %.3g (of the bound's scale)%n", kind, worst);
        }
    }

    @Test
    void theSamePartitionIndependentInitialWeights() {
        RealModel model = model(Kind.TRANSFORMER);
        List<Param> whole = new ArrayList<>();
        for (Layer l : model.units()) whole.addAll(l.params());
        for (int stages : new int[] {1, 3, 8}) {
            List<Param> sharded = new ArrayList<>();
            for (StageShard s : model.shards(model.partition(stages))) sharded.addAll(s.params());
            assertThat(sharded).hasSameSizeAs(whole);
            for (int k = 0; k < whole.size(); k++) {
                assertThat(Tensors.bitEqual(sharded.get(k).value(), whole.get(k).value())).as(whole.get(k).name()).isTrue();
            }
        }
    }

    @Test
    void anotherSeedGivesOtherWeightsAndTheReferenceNoticesAOneBitChange() {
        TrainingResult want = reference(Kind.MLP, 4, 1);
        PipelineTrainer trainer = new PipelineTrainer(model(Kind.MLP), data(Kind.MLP), schedule("1f1b", Recompute.NONE, 2, 4),
                Recompute.NONE, 1, optimizer(Kind.MLP), PipelineTrainer.Reduction.RING);
        DMatrixRMajNudge.nudgeOneUlp(trainer.params().get(0));
        TrainingResult got = trainer.train(STEPS);
        assertThatThrownBy(() -> assertBitIdentical(got, want)).isInstanceOf(AssertionError.class);
    }

    @Test
    void fullRecomputationWithoutRActionsIsRejected() {
        assertThatThrownBy(() -> new PipelineExecutor(Schedules.oneFOneB(2, 4), Recompute.FULL))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("withRecompute()");
    }

    /** One-ulp perturbation of a weight, to show the bit comparison is sharp. */
    static final class DMatrixRMajNudge {
        static void nudgeOneUlp(Param p) {
            p.value().data[0] = Math.nextUp(p.value().data[0]);
        }
    }
}
