package dev.pipelab.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipelab.model.LinkSpec;
import dev.pipelab.schedule.StageCost;
import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * hardware.p2pScatterGather, Megatron-LM's scatter/gather of pipeline messages across tensor ranks (Narayanan et al.
 * 2021 §4.1): the link carries 1/t of each message, the receiving stage all-gathers it on the tensor-parallel link in
 * the pass that consumes it, the receive buffer stays the whole message.
 */
class P2pScatterGatherTest {

    /**
     * StageCostsTest's scenario, gpt-39b at p = 4, d = 4, t = 8: t fills a DGX A100 node, so every pipeline rank is
     * d·t = 32 devices, 4 nodes, and every pipeline link is ib-hdr.
     */
    private static Plan plan(String... sets) {
        return StageCostsTest.plan(sets);
    }

    /**
     * On with t = 8: a message crosses the link as 2·s·b·h / 8 bytes; every stage but the first pays, in its forward,
     * the all-gather of the whole 2·s·b·h activation on NVLink, (t-1) ring steps of latency + (2sbh/t)/bandwidth;
     * every stage but the last pays the same in its backward-input for the gradient; nothing else changes.
     */
    @Test
    void theLinkCarriesAnEighthAndTheReceiverPaysTheAllGather() {
        Plan off = plan();
        Plan on = plan("hardware.p2pScatterGather=true");
        int t = 8;
        long message = 2L * 2048 * 2 * 8192; // 2·s·b·h, bf16, s = 2048, b = 2, h = 8192
        long chunk = message / t;
        assertThat(message % t).isZero();
        assertThat(on.placement().pipelineLink(0, 1)).isEqualTo(on.placement().interNode());
        LinkSpec nvlink = on.placement().tensorParallelLink();
        assertThat(nvlink).isEqualTo(on.placement().intraNode());
        double gather = 0; // summed step by step, as Collectives sums the ring's steps
        for (int step = 0; step < t - 1; step++) gather += nvlink.latencySeconds() + chunk / nvlink.bandwidthBytesPerSecond();
        assertThat(gather).isPositive();

        for (int k = 0; k < 4; k++) {
            StageCost a = off.stageCosts().get(k);
            StageCost b = on.stageCosts().get(k);
            boolean first = k == 0;
            boolean last = k == 3;
            assertThat(a.sendForwardBytes()).isEqualTo(last ? 0 : message);
            assertThat(b.sendForwardBytes()).as("stage %d sends forward", k).isEqualTo(last ? 0 : chunk);
            assertThat(a.sendBackwardBytes()).isEqualTo(first ? 0 : message);
            assertThat(b.sendBackwardBytes()).as("stage %d sends backward", k).isEqualTo(first ? 0 : chunk);
            assertThat(b.forwardSeconds()).as("stage %d F", k).isEqualTo(first ? a.forwardSeconds() : a.forwardSeconds() + gather);
            assertThat(b.backwardInputSeconds()).as("stage %d B", k)
                    .isEqualTo(last ? a.backwardInputSeconds() : a.backwardInputSeconds() + gather);
            assertThat(b.backwardWeightSeconds()).isEqualTo(a.backwardWeightSeconds());
            // the full recomputation re-runs the forward from the stashed input, already gathered
            assertThat(b.recomputeSeconds()).isEqualTo(a.recomputeSeconds());
            assertThat(b.allReduce()).isEqualTo(a.allReduce());
            assertThat(b.stashBytes()).isEqualTo(a.stashBytes());
        }
        // the receiver holds the whole message: the memory lines, receive buffers included, are the same
        assertThat(on.stageMemory()).isEqualTo(off.stageMemory());
        assertThat(on.stageMemory().get(1).receiveBufferBytes()).isEqualTo(2 * message);
    }

    /** With sequence parallelism the message is already 1/t (Megatron skips scatter/gather then); with t = 1 there is nothing to split. */
    @Test
    void noEffectWithSequenceParallelismOrWithoutTensorParallelism() {
        assertThat(plan("parallelism.sequenceParallel=true", "hardware.p2pScatterGather=true").stageCosts())
                .isEqualTo(plan("parallelism.sequenceParallel=true").stageCosts());
        assertThat(plan("parallelism.tensor=1", "parallelism.data=32", "hardware.p2pScatterGather=true").stageCosts())
                .isEqualTo(plan("parallelism.tensor=1", "parallelism.data=32").stageCosts());
    }

    /**
     * A profiled p2pSeconds is the measured time of one message as sent: with scatter/gather, one 1/t chunk on each
     * link, so the profiled link moves a chunk in that time (and the whole message would take t times as long).
     */
    @Test
    void aProfiledMessageTimeIsTheChunksTime() {
        for (String sg : List.of("false", "true")) {
            Plan plan = plan("costs.p2pSeconds=0.004", "hardware.p2pScatterGather=" + sg);
            long sent = plan.stageCosts().get(0).sendForwardBytes();
            assertThat(sent).isEqualTo(sg.equals("true") ? plan.costModel().p2pBytes() / 8 : plan.costModel().p2pBytes());
            LinkSpec link = plan.network().link(0, 1);
            assertThat(link.occupancySeconds(sent) + link.latencySeconds()).as(sg).isCloseTo(0.004, within(1e-15));
        }
    }

    /**
     * Table 1's 39B row as run (t = 8, p = 2, d = 32, b = 4, m = 12, 1F1B, full recomputation, ib-hdr between the
     * stages, Megatron's local DDP): each message is 2·2048·4·8192 bytes = 128 MiB, 5.4 ms on a 25 GB/s HDR link,
     * 0.67 ms as a 1/8 chunk, for an all-gather of 7 · 16 MiB on NVLink 3 (~0.41 ms): the step is shorter with the
     * optimization, by at most what the links lost.
     */
    @Test
    void table1Row39bIsFasterWithScatterGather() {
        MegatronTable1.Row row = MegatronTable1.ROWS.get(4);
        assertThat(row.preset()).isEqualTo("gpt-39b");
        Plan off = Planner.plan(MegatronTable1.scenario(row, 0.7, false), false);
        Plan on = Planner.plan(MegatronTable1.scenario(row, 0.7, true), false);
        double stepOff = off.evaluate().stepTimeSeconds();
        double stepOn = on.evaluate().stepTimeSeconds();
        assertThat(stepOn).isLessThan(stepOff);
        // per micro-batch and direction, the link saves (message - chunk) / bandwidth and the receiver pays the gather;
        // the whole step cannot save more than every message's saving on the critical path: 2 directions · m · (p - 1)
        LinkSpec ib = off.placement().interNode();
        long message = off.costModel().p2pBytes();
        double saved = ib.occupancySeconds(message) - ib.occupancySeconds(message / 8);
        assertThat(stepOff - stepOn).isLessThanOrEqualTo(2 * row.microBatches() * (row.pipeline() - 1) * saved);
    }
}
