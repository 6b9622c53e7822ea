package dev.pipelab.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipelab.model.CostModel;
import dev.pipelab.model.FrameworkOverhead;
import dev.pipelab.pipeline.RunSpec;
import dev.pipelab.scenario.ScenarioLoader;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.schedule.Timeline;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Peak memory per GPU, line by line: the lines add up to the evaluator's peak, and the model states follow ZeRO. */
class PeakMemoryLinesTest {

    private static Plan plan(String file, String... sets) {
        return Planner.plan(ScenarioLoader.load(Path.of("..", "scenarios", file), List.of(sets)));
    }

    private static long line(PeakMemoryLines lines, String name) {
        return lines.lines().stream().filter(l -> l.name().equals(name)).mapToLong(PeakMemoryLines.Line::bytes).sum();
    }

    /** scenarios/megatron-memory.yaml, the distributed optimizer off and on: every rank's lines sum to its peak. */
    @Test
    void megatronLinesSumToTheEvaluatorsPeakWithTheDistributedOptimizerOffAndOn() {
        for (String zero : List.of("0", "1")) {
            Plan plan = plan("megatron-memory.yaml", "parallelism.zero=" + zero);
            Timeline timeline = plan.evaluate();
            for (int r = 0; r < plan.pipeline(); r++) {
                PeakMemoryLines lines = PeakMemoryLines.of(plan, r);
                long sum = 0;
                for (PeakMemoryLines.Line l : lines.lines()) sum += l.bytes();
                assertThat(sum).as("zero %s rank %d", zero, r).isEqualTo(lines.totalBytes()).isEqualTo(timeline.peakMemoryBytes(r));
            }
        }
    }

    /**
     * The model-state lines of each rank are the ZeRO paper's per-device formulas (Rajbhandari et al. 2020, Figure 1)
     * with Ψ the rank's parameters, N_d = 4, K = 12: (2+2+K)Ψ, 2Ψ+2Ψ+KΨ/N_d, 2Ψ+(2+K)Ψ/N_d, (2+2+K)Ψ/N_d; nothing else
     * in the peak changes between stages 0 to 2 (stage 3 adds the gathered layer).
     */
    @Test
    void modelStatesFollowTheZeroPaperAndTheRestOfThePeakDoesNotMove() {
        Plan base = plan("megatron-memory.yaml", "parallelism.zero=0");
        int d = base.data();
        assertThat(d).isEqualTo(4);
        PlanReport baseReport = PlanReport.of(base, base.evaluate());
        for (int r = 0; r < base.pipeline(); r++) {
            double psi = baseReport.stages().get(r).parameters();
            long rest = baseReport.stages().get(r).peakMemoryBytes() - states(PeakMemoryLines.of(base, r));
            double[] formula = {(2 + 2 + 12) * psi, 2 * psi + 2 * psi + 12 * psi / d, 2 * psi + (2 + 12) * psi / d, (2 + 2 + 12) * psi / d};
            for (int stage = 0; stage <= 3; stage++) {
                Plan plan = plan("megatron-memory.yaml", "parallelism.zero=" + stage);
                PeakMemoryLines lines = PeakMemoryLines.of(plan, r);
                assertThat((double) states(lines)).as("ZeRO %d rank %d", stage, r).isEqualTo(formula[stage]);
                long gathered = line(lines, "gathered layer");
                assertThat(gathered > 0).isEqualTo(stage == 3);
                assertThat(lines.totalBytes() - states(lines) - gathered).as("the rest of rank %d's peak", r).isEqualTo(rest);
            }
        }
    }

    /** ZeRO 1 shrinks the optimizer state 4-fold on 4 replicas and the peak by exactly what it saves. */
    @Test
    void theDistributedOptimizerSavesThreeQuartersOfTheOptimizerState() {
        PeakMemoryLines off = PeakMemoryLines.of(plan("megatron-memory.yaml", "parallelism.zero=0"), 0);
        PeakMemoryLines on = PeakMemoryLines.of(plan("megatron-memory.yaml", "parallelism.zero=1"), 0);
        assertThat(line(off, "optimizer state")).isEqualTo(4 * line(on, "optimizer state"));
        assertThat(off.totalBytes() - on.totalBytes()).isEqualTo(line(off, "optimizer state") - line(on, "optimizer state"));
    }

    /**
     * The complete accounting's lines, each from its formula (docs/memory.md): the embedding stash {@code 8sb + sbh}, the
     * output layer's inputs {@code 4sbh} and the fp32 logits {@code 4sbV} (all ÷ t with sequence parallelism), receive
     * buffers of {@code 2sbh/t}, and the default overhead of a rank in three groups (t, p and d above 1).
     */
    @Test
    void theAddedLinesAreTheirFormulas() {
        Plan plan = plan("megatron-memory.yaml");
        long s = 2048, b = 1, h = 6144, v = 51200, t = 8;
        PeakMemoryLines first = PeakMemoryLines.of(plan, 0);
        PeakMemoryLines last = PeakMemoryLines.of(plan, 1);
        // 1F1B, p = 2: rank 0 peaks with 2 micro-batches in flight, rank 1 with 1
        assertThat(line(first, "embedding")).isEqualTo(2 * (8 * s * b + s * b * h) / t);
        assertThat(line(last, "output layer input")).isEqualTo(4 * s * b * h / t);
        assertThat(line(last, "logits (fp32)")).isEqualTo(4 * s * b * v / t);
        assertThat(line(first, "receive buffers")).isEqualTo(2 * s * b * h / t);
        assertThat(line(last, "receive buffers")).isEqualTo(2 * s * b * h / t);
        assertThat(line(first, "framework")).isEqualTo((1343L + 3 * 688L) << 20).isEqualTo(FrameworkOverhead.defaultBytes(2, 4, 8));
        assertThat(line(first, "logits (fp32)")).isZero();
        assertThat(line(last, "embedding")).isZero();
    }

    /** training.memory: article keeps only the article's lines: the peak is model states plus the layers' stash. */
    @Test
    void theArticlesAccountingHasOnlyTheArticlesLines() {
        Plan article = plan("llama2-70b-article.yaml");
        Plan complete = plan("llama2-70b-article.yaml", "training.memory=complete");
        CostModel cm = article.costModel();
        for (int r = 0; r < article.pipeline(); r++) {
            PeakMemoryLines lines = PeakMemoryLines.of(article, r);
            assertThat(lines.lines()).extracting(PeakMemoryLines.Line::name)
                    .containsExactly("parameters", "gradients", "optimizer state", "layer activations", "recomputed");
            PeakMemoryLines more = PeakMemoryLines.of(complete, r);
            long added = line(more, "receive buffers") + line(more, "framework") + line(more, "embedding")
                    + line(more, "output layer input") + line(more, "logits (fp32)");
            assertThat(more.totalBytes() - lines.totalBytes()).as("rank %d", r).isEqualTo(added);
            assertThat(line(more, "framework")).isEqualTo(FrameworkOverhead.CUDA_CONTEXT_BYTES + FrameworkOverhead.NCCL_COMMUNICATOR_BYTES);
            assertThat(line(more, "receive buffers")).isEqualTo((r == 0 || r == 7 ? 1 : 2) * cm.p2pBytes());
        }
    }

    /** ZeRO 3 gathers parameters in the forward and the backward: 3(d-1) ring steps against 2(d-1), the same chunks. */
    @Test
    void zeroThreeMovesOneAndAHalfTimesTheVolume() {
        List<StageCost> plain = plan("megatron-memory.yaml", "parallelism.zero=0").stageCosts();
        List<StageCost> one = plan("megatron-memory.yaml", "parallelism.zero=1").stageCosts();
        List<StageCost> three = plan("megatron-memory.yaml", "parallelism.zero=3").stageCosts();
        for (int k = 0; k < plain.size(); k++) {
            assertThat(plain.get(k).allReduce().steps()).isEqualTo(2 * 3);
            assertThat(one.get(k).allReduce()).isEqualTo(plain.get(k).allReduce());
            assertThat(three.get(k).allReduce().steps()).isEqualTo(3 * 3);
            assertThat(three.get(k).allReduce().chunkBytes()).isEqualTo(plain.get(k).allReduce().chunkBytes());
            // a sharded optimizer step updates a quarter of the parameters
            assertThat(one.get(k).optimizerSeconds()).isEqualTo(plain.get(k).optimizerSeconds() / 4);
        }
    }

    /** A checkpoint holds the whole model state once, whatever ZeRO shards across the replicas and whatever else is counted. */
    @Test
    void checkpointBytesDoNotDependOnShardingOrAccounting() {
        List<Long> bytes = new ArrayList<>();
        for (String set : List.of("parallelism.zero=0", "parallelism.zero=1", "parallelism.zero=2", "parallelism.zero=3",
                "training.memory=article")) {
            bytes.add(RunSpec.of(plan("megatron-memory.yaml", set)).checkpointBytes());
        }
        // 18.43e9 parameters (the embedding counted twice: the last stage keeps a tied copy) x 16 B
        Plan plan = plan("megatron-memory.yaml");
        long expected = 0;
        for (int k = 0; k < plan.stageMemory().size(); k++) {
            expected += Math.round(StageCosts.rawParameters(plan.costModel(), true, plan.partition(), k, plan.tensor()) * 16);
        }
        assertThat(bytes).containsOnly(expected * plan.tensor());
    }

    private static long states(PeakMemoryLines lines) {
        return line(lines, "parameters") + line(lines, "gradients") + line(lines, "optimizer state");
    }
}
