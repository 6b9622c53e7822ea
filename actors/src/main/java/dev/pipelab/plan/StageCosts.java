package dev.pipelab.plan;

import dev.pipelab.model.Attention;
import dev.pipelab.model.CostModel;
import dev.pipelab.model.DeviceSpec;
import dev.pipelab.model.LayerOps;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.model.OpSeconds;
import dev.pipelab.model.Optimizer;
import dev.pipelab.model.Partition;
import dev.pipelab.model.Recompute;
import dev.pipelab.model.Zero;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.schedule.RingAllReduce;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.schedule.StagePlacement;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns the cost model into one {@link StageCost} per model stage (docs/architecture.md, Cost model), letting profiled
 * scenario {@code costs} replace any duration. Invariant: stage k holds its partition's layers, the first
 * stage also the embedding, the last also the output layer (a copy of the embedding when tied, as
 * Megatron-LM keeps one for pipeline parallelism).
 */
final class StageCosts {

    /** PyTorch DDP's default bucket_cap_mb (torch.nn.parallel.DistributedDataParallel): 25 MiB. */
    static final long DDP_BUCKET_BYTES = 25L * 1024 * 1024;

    private StageCosts() {}

    /** Parameters (per tensor rank) held by model stage {@code k} of {@code stages}, before any override scaling. */
    static double rawParameters(CostModel cm, boolean tied, Partition partition, int k, int tensor) {
        int stages = partition.layersPerStage().size();
        double params = (double) partition.layersPerStage().get(k) * cm.layerParameters();
        if (k == 0) params += cm.embeddingParameters();
        if (k == stages - 1 && (stages > 1 || !tied)) params += tied ? cm.embeddingParameters() : cm.outputParameters();
        return params / tensor;
    }

    /**
     * Each model stage's memory, line by line (docs/memory.md): model states per ZeRO stage (Rajbhandari et al. 2020,
     * Figure 1), the decoder layers' stash (Korthikanti et al. 2022) and, in the complete accounting, the embedding's and
     * the output layer's stash, the receive buffers and the framework overhead.
     */
    static List<StageMemory> memory(CostModel cm, boolean tied, Placement placement, Recompute recompute, Optimizer optimizer,
                                    Partition partition, StagePlacement stagePlacement, MemoryPolicy policy) {
        int stages = partition.layersPerStage().size();
        int t = placement.tensor();
        int d = placement.data();
        Zero zero = policy.zero();
        boolean complete = policy.complete();
        // A published total (model.parameters) scales every stage's share, so that memory adds up to it.
        double scale = cm.parametersForMemory() / cm.totalParameters();
        long layerStash = cm.layerActivationBytes(recompute);
        long recomputeBytes = switch (recompute) {
            case NONE -> 0L;
            // selective: the attention core of one layer is re-materialised (Korthikanti et al. 2022 §5)
            case SELECTIVE -> cm.layerActivationBytes(Recompute.NONE) - cm.layerActivationBytes(Recompute.SELECTIVE);
            // full: the backward re-runs the stage's forward one layer at a time, holding one layer's activations
            case FULL -> cm.layerActivationBytes(Recompute.NONE);
        };
        double bytesPerParameter = optimizer.weightBytesPerParameter() + optimizer.gradientBytesPerParameter() + optimizer.stateBytesPerParameter();
        // ZeRO 3 gathers a layer's weights whole before its forward and its backward (ZeRO §5.3): one layer at a time
        long gathered = zero == Zero.PARAMETERS && d > 1 && complete
                ? Math.round(cm.layerParameters() * scale / t * optimizer.weightBytesPerParameter()) : 0;
        // the whole message even with hardware.p2pScatterGather: the 1/t chunk that arrives is all-gathered into a
        // whole tensor, which the stage's forward (or backward) consumes and holds (Megatron-LM's gather_split_1d_tensor)
        long p2p = cm.p2pBytes();
        boolean[] rankHasOverhead = new boolean[placement.pipeline()];

        List<StageMemory> out = new ArrayList<>(stages);
        for (int k = 0; k < stages; k++) {
            int layers = partition.layersPerStage().get(k);
            boolean first = k == 0;
            boolean last = k == stages - 1;
            double params = rawParameters(cm, tied, partition, k, t) * scale;
            int rank = stagePlacement.rankOf(k);
            long overhead = complete && !rankHasOverhead[rank] ? policy.frameworkOverheadBytes() : 0;
            rankHasOverhead[rank] = true;
            out.add(new StageMemory(
                    Math.round(zero.weightBytes(params, optimizer, d)),
                    Math.round(zero.gradientBytes(params, optimizer, d)),
                    Math.round(zero.optimizerBytes(params, optimizer, d)),
                    gathered,
                    complete ? (first ? 0 : p2p) + (last ? 0 : p2p) : 0,
                    overhead,
                    Math.round(params * bytesPerParameter),
                    (long) layers * layerStash,
                    complete && first ? cm.embeddingStashBytes() : 0,
                    complete && last ? cm.outputLayerInputBytes() : 0,
                    complete && last ? cm.logitsBytes() : 0,
                    layers > 0 && recompute != Recompute.NONE ? recomputeBytes : 0));
        }
        return out;
    }

    /**
     * Durations come from the operation-level model ({@link LayerOps}, docs/cost-model.md): each kernel's roofline
     * time divided by {@code hardware.efficiency}, plus the tensor-parallel collectives on the intra-node link that
     * {@code hardware.tensorParallelOverlap} does not hide. The first stage runs the embedding, the last the output
     * layer and the loss.
     */
    static List<StageCost> of(CostModel cm, boolean tied, DeviceSpec device, Placement placement, Scenario.Hardware hardware,
                              Recompute recompute, Optimizer optimizer, Partition partition, Optional<Scenario.Costs> profiled,
                              boolean splitBackward, StagePlacement stagePlacement, Zero zero, List<StageMemory> memory) {
        int stages = partition.layersPerStage().size();
        int t = placement.tensor();
        int d = placement.data();
        double efficiency = hardware.efficiency();
        OpSeconds ops = OpSeconds.of(new LayerOps(cm.model(), cm.microBatchSize(), t, cm.sequenceParallel(),
                Attention.parse(hardware.attention()).orElseThrow()), device, recompute);
        LinkSpec tpLink = placement.tensorParallelLink();
        double exposed = 1 - hardware.tensorParallelOverlap();
        double tpForward = cm.tensorParallelSecondsPerLayer(tpLink) * exposed;
        double tpBackward = cm.tensorParallelBackwardSecondsPerLayer(tpLink) * exposed;
        double scale = cm.parametersForMemory() / cm.totalParameters();
        // hardware.p2pScatterGather (Narayanan et al. 2021 §4.1; Megatron-LM megatron/p2p_communication.py): the t
        // tensor ranks of the sender each send 1/t of the message over their own link, in parallel, so the link time
        // is one chunk's and sendForwardBytes/sendBackwardBytes (what the evaluator and the runtime put on the link)
        // are the chunk. The receiver's t ranks then all-gather the whole message on the tensor-parallel link before
        // they can use it, so the gather is charged to the pass that consumes the message: the forward of every stage
        // but the first (the activation), the backward-input of every stage but the last (the gradient). Megatron
        // does it inside the receive, right before that pass, and the rank cannot start the pass without it.
        boolean scatterGather = hardware.p2pScatterGather();
        long p2pLink = cm.p2pLinkBytes(scatterGather);
        double gather = cm.p2pGatherSeconds(scatterGather, tpLink);

        List<StageCost> out = new ArrayList<>(stages);
        for (int k = 0; k < stages; k++) {
            int layers = partition.layersPerStage().get(k);
            boolean first = k == 0;
            boolean last = k == stages - 1;
            double forward = (layers * ops.layerForward() + (first ? ops.embeddingForward() : 0)
                    + (last ? ops.outputForward() : 0)) / efficiency + layers * tpForward;
            double backwardInput = (layers * ops.layerBackwardInput() + (last ? ops.outputBackwardInput() : 0)) / efficiency
                    + layers * tpBackward;
            double backwardWeight = (layers * ops.layerBackwardWeight() + (first ? ops.embeddingBackwardWeight() : 0)
                    + (last ? ops.outputBackwardWeight() : 0)) / efficiency;
            double recomputeSeconds = layers * ops.layerRecompute() / efficiency
                    + (recompute == Recompute.FULL ? layers * tpForward : 0);
            long sendForward = last ? 0 : p2pLink;
            long sendBackward = k == 0 ? 0 : p2pLink;
            double params = rawParameters(cm, tied, partition, k, t) * scale;
            StageMemory mem = memory.get(k);
            int rank = stagePlacement.rankOf(k);
            long gradientBytes = Math.round(params * optimizer.gradientBytesPerParameter());
            // ZeRO 1 and 2: a gradient reduce-scatter and a parameter all-gather, the all-reduce's 2(d-1) steps; ZeRO 3 adds
            // a parameter all-gather: 3(d-1) (ZeRO §7.2). Every recipe's weights and gradients have the same element size.
            RingAllReduce allReduce = RingAllReduce.ring(gradientBytes, d, placement.dataParallelLink(rank), zero.ringPasses());
            if (hardware.dataParallelOverlap() && d > 1) {
                // PyTorch DDP (Li et al. 2020, "PyTorch Distributed", §3.2.3-3.2.4): gradients are all-reduced in
                // buckets of bucket_cap_mb = 25 MB as the last micro-batch's backward produces them (no_sync skips the
                // others); what that backward cannot hide is left, and at least the last bucket's all-reduce
                double window = backwardInput + backwardWeight; // the recomputed forward produces no gradient
                double lastBucket = RingAllReduce.ring(Math.min(gradientBytes, DDP_BUCKET_BYTES), d,
                        placement.dataParallelLink(rank), zero.ringPasses()).seconds();
                allReduce = RingAllReduce.fixed(Math.max(allReduce.seconds() - window, lastBucket));
            }
            // The gather is added after the DDP window above: it runs before the backward produces any gradient, so
            // it hides no bucket. Added before the profiled costs below: a profiled pass time is the whole pass as
            // pipelab defines it (collectives included), kept exactly. 0 (nothing added) when the option is off.
            // A stage whose neighbour sits on the same rank (the turn of a V, or p = 1) receives no message: no gather.
            if (gather > 0) {
                if (!first && stagePlacement.rankOf(k - 1) != rank) forward += gather;
                if (!last && stagePlacement.rankOf(k + 1) != rank) backwardInput += gather;
            }
            // with the optimizer state sharded, each rank updates its 1/d shard (ZeRO §5.1)
            double updated = zero.shardsOptimizerStep() ? params / d : params;
            double optimizerSeconds = updated * optimizer.stepBytesTouchedPerParameter() / device.memoryBandwidthBytesPerSecond();

            if (profiled.isPresent()) {
                Scenario.Costs c = profiled.get();
                forward = pick(c.forwardSeconds(), k, forward);
                backwardInput = pick(c.backwardInputSeconds(), k, backwardInput);
                // an unsplit schedule's profiled backward is the whole backward (docs/scenario-keys.md)
                backwardWeight = c.backwardWeightSeconds().isEmpty() && c.backwardInputSeconds().isPresent() && !splitBackward
                        ? 0.0 : pick(c.backwardWeightSeconds(), k, backwardWeight);
                recomputeSeconds = recompute == Recompute.NONE ? 0 : pick(c.recomputeSeconds(), k, recomputeSeconds);
                if (d > 1 && c.allReduceSeconds().isPresent()) allReduce = RingAllReduce.fixed(c.allReduceSeconds().get());
                optimizerSeconds = c.optimizerSeconds().orElse(optimizerSeconds);
            }
            out.add(new StageCost(forward, backwardInput, backwardWeight, recomputeSeconds, sendForward, sendBackward,
                    mem.stashBytes(), mem.recomputeBytes(), mem.staticBytes(), allReduce, optimizerSeconds));
        }
        return out;
    }

    private static double pick(Optional<List<Double>> values, int k, double fallback) {
        if (values.isEmpty()) return fallback;
        List<Double> list = values.get();
        return list.size() == 1 ? list.get(0) : list.get(k);
    }
}
