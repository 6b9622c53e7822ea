package dev.pipelab.pipeline;

import dev.pipelab.link.CreditWindow;
import dev.pipelab.model.Recompute;
import dev.pipelab.monitoring.EventLog;
import dev.pipelab.numerics.Activation;
import dev.pipelab.numerics.Loss;
import dev.pipelab.numerics.OptimizerSpec;
import dev.pipelab.numerics.Param;
import dev.pipelab.numerics.PipelineTrainer;
import dev.pipelab.numerics.RealModel;
import dev.pipelab.numerics.SequentialTrainer;
import dev.pipelab.numerics.Tensors;
import dev.pipelab.numerics.TrainingResult;
import dev.pipelab.numerics.WeightsFile;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.PassTimes;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.stage.RealSetup;
import dev.pipelab.stage.TestCosts;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real-numerics mode: the actor runtime, with real layer shards in its stages, real tensors in its messages and
 * a real all-reduce through its ring links, reproduces {@link SequentialTrainer} bit for bit — every step's loss
 * and every final weight ({@code doubleToRawLongBits}) — for every schedule × recomputation policy, p, m and d
 * (canonical all-reduce). All runs share one ActorSystem with {@code serialize-messages = on}.
 */
class RealNumericsRunTest {

    static final int STEPS = 2;
    static final int LAYERS = 8;

    enum Kind { MLP, TRANSFORMER }

    @RegisterExtension
    static final TestSystems.OneNode node = new TestSystems.OneNode();

    private static final Map<String, TrainingResult> REFERENCES = new ConcurrentHashMap<>();

    static RealModel model(Kind kind) {
        return kind == Kind.MLP
                ? RealModel.mlp(6, 8, LAYERS, 4, Activation.GELU, true, Loss.CROSS_ENTROPY, 42)
                : RealModel.transformer(8, 4, 8, LAYERS, 2, Activation.GELU, true, 42);
    }

    static RealSetup setup(Kind kind, Recompute policy, boolean canonical) {
        return kind == Kind.MLP
                ? RealSetup.sgd(model(kind), 2, 9, 0.1, 0.9, policy, canonical)
                : RealSetup.adam(model(kind), 2, 9, OptimizerSpec.Adam.of(0.01), policy, canonical);
    }

    static TrainingResult reference(Kind kind, int m, int d, int steps) {
        return REFERENCES.computeIfAbsent(kind + "/" + m + "/" + d + "/" + steps, k -> {
            RealSetup s = setup(kind, Recompute.NONE, true);
            return new SequentialTrainer(s.model(), s.data(), m, d, s.optimizerSpec()).train(steps);
        });
    }

    static Schedule schedule(String name, Recompute policy, int p, int m) {
        Schedule s = Schedules.byName(name, p, name.equals("interleaved") || Schedules.V_SHAPED.contains(name) ? 2 : 1, m, new PassTimes(1, 2, 1, 0));
        return policy == Recompute.NONE ? s : s.withRecompute();
    }

    static RunResult run(Kind kind, Schedule s, Recompute policy, int d, boolean canonical, int steps) {
        RunSpec spec = new RunSpec(s, TestCosts.of(s, d, policy != Recompute.NONE, TestCosts.SLOW), Network.uniform(TestCosts.SLOW),
                CreditWindow.UNBOUNDED, d, Long.MAX_VALUE).withReal(setup(kind, policy, canonical));
        return Emulator.run(node.system(), spec, RunOptions.virtual(steps, new EventLog())).orThrow();
    }

    static void assertBitIdentical(RunResult actor, TrainingResult reference) {
        assertThat(actor.losses()).hasSameSizeAs(reference.losses());
        for (int i = 0; i < reference.losses().size(); i++) {
            assertThat(Double.doubleToRawLongBits(actor.losses().get(i))).as("loss bits of step " + i)
                    .isEqualTo(Double.doubleToRawLongBits(reference.losses().get(i)));
        }
        List<Param> w = actor.weights();
        assertThat(w).hasSameSizeAs(reference.weights());
        for (int i = 0; i < w.size(); i++) {
            Param a = w.get(i);
            Param b = reference.weights().get(i);
            assertThat(a.name()).isEqualTo(b.name());
            assertThat(Tensors.bitEqual(a.value(), b.value())).as("weights " + a.name()).isTrue();
        }
    }

    static Stream<Arguments> pipelineOnly() {
        List<Arguments> out = new ArrayList<>();
        for (String name : Schedules.NAMES) {
            for (Recompute policy : Recompute.values()) {
                for (int p : new int[] {1, 2, 4}) {
                    for (int m : new int[] {1, 4, 8}) {
                        if (name.equals("interleaved") && m % p != 0) continue;
                        if (name.equals("dualpipev") && m < 2 * p) continue;
                        // a reasonable subset: every schedule × policy, p and m each covered, both model kinds
                        if ((p + m + name.length() + policy.ordinal()) % 2 == 1 && !(p == 4 && m == 8)) continue;
                        Kind kind = (p + m + policy.ordinal()) % 3 == 0 ? Kind.TRANSFORMER : Kind.MLP;
                        out.add(Arguments.of(kind, name, policy, p, m));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} recompute={2} p={3} m={4} d=1")
    @MethodSource("pipelineOnly")
    void actorRunEqualsSequentialBitForBit(Kind kind, String name, Recompute policy, int p, int m) {
        RunResult r = run(kind, schedule(name, policy, p, m), policy, 1, true, STEPS);
        assertBitIdentical(r, reference(kind, m, 1, STEPS));
    }

    static Stream<Arguments> dataParallel() {
        return Stream.of(
                Arguments.of(Kind.MLP, "1f1b", Recompute.NONE, 2, 4, 2),
                Arguments.of(Kind.TRANSFORMER, "zb-h2", Recompute.FULL, 2, 4, 2),
                Arguments.of(Kind.MLP, "interleaved", Recompute.SELECTIVE, 2, 4, 4),
                Arguments.of(Kind.TRANSFORMER, "gpipe", Recompute.NONE, 4, 8, 4),
                Arguments.of(Kind.MLP, "zb-h1", Recompute.FULL, 4, 4, 3));
    }

    @ParameterizedTest(name = "{0} {1} recompute={2} p={3} m={4} d={5} canonical")
    @MethodSource("dataParallel")
    void canonicalAllReduceIsBitIdenticalForEveryD(Kind kind, String name, Recompute policy, int p, int m, int d) {
        RunResult r = run(kind, schedule(name, policy, p, m), policy, d, true, STEPS);
        assertBitIdentical(r, reference(kind, m, d, STEPS));
    }

    /**
     * The plain ring sums chunk c in the rotated order g_c + g_{c+1} + ...: exact for d ≤ 2, within rounding for
     * d ≥ 3 (GradientAllReduce's class comment). Its bits equal {@link PipelineTrainer} with the RING reduction, and
     * the reference within 1e-12.
     */
    @Test
    void ringAllReduceIsWithinRoundingAndEqualsTheExecutorsRing() {
        int p = 2;
        int m = 4;
        int d = 4;
        Schedule s = schedule("1f1b", Recompute.NONE, p, m);
        RunResult r = run(Kind.MLP, s, Recompute.NONE, d, false, STEPS);
        RealSetup setup = setup(Kind.MLP, Recompute.NONE, false);
        TrainingResult ring = new PipelineTrainer(setup.model(), setup.data(), s, Recompute.NONE, d, setup.optimizerSpec(),
                PipelineTrainer.Reduction.RING).train(STEPS);
        assertBitIdentical(r, ring);
        TrainingResult ref = reference(Kind.MLP, m, d, STEPS);
        double worst = 0;
        for (int i = 0; i < ref.weights().size(); i++) {
            double[] a = r.weights().get(i).value().data;
            double[] b = ref.weights().get(i).value().data;
            for (int j = 0; j < b.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
        }
        assertThat(worst).isLessThanOrEqualTo(1e-12);
        for (int i = 0; i < STEPS; i++) assertThat(r.losses().get(i)).isCloseTo(ref.losses().get(i), Offset.offset(1e-12));
    }

    /** The numerics package's golden lines (zb-h2, full recomputation, p=4, m=8, d=2, 3 steps) come out of an actor run. */
    @Test
    void theGoldenLinesComeOutOfAnActorRun() throws Exception {
        List<String> lines = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            Schedule s = Schedules.zbH2(4, 8).withRecompute();
            RunResult r = run(kind, s, Recompute.FULL, 2, false, 3);
            StringBuilder line = new StringBuilder(kind.name().toLowerCase()).append(" zb-h2 p=4 m=8 d=2 full losses=");
            for (int i = 0; i < r.losses().size(); i++) {
                if (i > 0) line.append(',');
                line.append(Long.toHexString(Double.doubleToRawLongBits(r.losses().get(i))));
            }
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(WeightsFile.encode(r.weights()));
            lines.add(line.append(" weights-sha256=").append(HexFormat.of().formatHex(digest)).toString());
        }
        String golden = Files.readString(Path.of("src", "test", "resources", "numerics", "golden.txt"));
        assertThat(String.join("\n", lines) + "\n").isEqualTo(golden);
    }
}
