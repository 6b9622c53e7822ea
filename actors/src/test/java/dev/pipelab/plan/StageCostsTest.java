package dev.pipelab.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipelab.model.Attention;
import dev.pipelab.model.CostModel;
import dev.pipelab.model.LayerOps;
import dev.pipelab.model.OpSeconds;
import dev.pipelab.model.Recompute;
import dev.pipelab.scenario.ScenarioLoader;
import dev.pipelab.schedule.RingAllReduce;
import dev.pipelab.schedule.StageCost;
import org.junit.jupiter.api.Test;

import java.util.List;

/** How StageCosts turns the kernels and the overlap settings into each stage's durations. */
class StageCostsTest {

    private static final String SCENARIO = """
            name: stage-costs
            model: { preset: gpt-39b }
            hardware: { device: a100-80gb, efficiency: 0.6 }
            parallelism: { pipeline: 4, data: 4, tensor: 8 }
            batch: { microBatchSize: 2, microBatches: 8 }
            training: { schedule: 1f1b, recompute: full }
            """;

    /** gpt-39b, p = 4, d = 4, t = 8 on A100s, 1F1B with full recomputation; shared with P2pScatterGatherTest. */
    static Plan plan(String... sets) {
        return Planner.plan(ScenarioLoader.parse(SCENARIO, "stage-costs.yaml", List.of(sets)));
    }

    /** A middle stage: its layers' kernels over the efficiency, plus the tensor-parallel collectives, per phase. */
    @Test
    void aStagesDurationsAreItsKernelsOverTheEfficiencyPlusItsCollectives() {
        Plan plan = plan();
        CostModel cm = plan.costModel();
        OpSeconds ops = OpSeconds.of(new LayerOps(plan.model(), 2, 8, false, Attention.MATERIALISED), plan.device(), Recompute.FULL);
        double tp = cm.tensorParallelSecondsPerLayer(plan.placement().tensorParallelLink());
        assertThat(tp).isPositive();
        StageCost c = plan.stageCosts().get(1);
        int layers = 12;
        assertThat(c.forwardSeconds()).isEqualTo(layers * ops.layerForward() / 0.6 + layers * tp);
        assertThat(c.backwardInputSeconds()).isEqualTo(layers * ops.layerBackwardInput() / 0.6 + layers * tp);
        assertThat(c.backwardWeightSeconds()).isEqualTo(layers * ops.layerBackwardWeight() / 0.6);
        assertThat(c.recomputeSeconds()).isEqualTo(layers * ops.layerRecompute() / 0.6 + layers * tp);
        // the last stage adds the logits and the loss, the first the embedding
        assertThat(plan.stageCosts().get(3).forwardSeconds())
                .isEqualTo((layers * ops.layerForward() + ops.outputForward()) / 0.6 + layers * tp);
        assertThat(plan.stageCosts().get(0).backwardWeightSeconds())
                .isEqualTo((layers * ops.layerBackwardWeight() + ops.embeddingBackwardWeight()) / 0.6);
    }

    /** tensorParallelOverlap hides that fraction of the collectives and nothing else; flash attention is faster. */
    @Test
    void overlapAndAttentionSettings() {
        StageCost none = plan().stageCosts().get(1);
        StageCost all = plan("hardware.tensorParallelOverlap=1").stageCosts().get(1);
        StageCost half = plan("hardware.tensorParallelOverlap=0.5").stageCosts().get(1);
        assertThat(all.forwardSeconds()).isLessThan(half.forwardSeconds());
        assertThat(half.forwardSeconds()).isLessThan(none.forwardSeconds());
        assertThat(all.backwardWeightSeconds()).isEqualTo(none.backwardWeightSeconds());
        assertThat(plan("hardware.attention=flash").stageCosts().get(1).forwardSeconds()).isLessThan(none.forwardSeconds());
    }

    /**
     * dataParallelOverlap (PyTorch DDP): the all-reduce left after the backward is what the last micro-batch's
     * backward of the stage cannot hide, and never less than the last 25 MiB bucket.
     */
    @Test
    void dataParallelOverlapLeavesWhatTheLastBackwardCannotHide() {
        Plan after = plan();
        Plan overlapped = plan("hardware.dataParallelOverlap=true");
        for (int k = 0; k < 4; k++) {
            StageCost a = after.stageCosts().get(k);
            StageCost o = overlapped.stageCosts().get(k);
            double window = a.backwardInputSeconds() + a.backwardWeightSeconds();
            double bucket = RingAllReduce.ring(StageCosts.DDP_BUCKET_BYTES, 4, after.placement().dataParallelLink(k)).seconds();
            assertThat(o.allReduce().seconds()).isEqualTo(Math.max(a.allReduce().seconds() - window, bucket));
            assertThat(o.allReduce().seconds()).isLessThan(a.allReduce().seconds());
        }
        assertThat(overlapped.evaluate().stepTimeSeconds()).isLessThan(after.evaluate().stepTimeSeconds());
    }
}
