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
     * Durations come from the operation-level model ({@link LayerOps}, docs/cost-model.md): each kernel's roofline
     * time divided by {@code hardware.efficiency}, plus the tensor-parallel collectives on the intra-node link that
     * {@code hardware.tensorParallelOverlap} does not hide. The first stage runs the embedding, the last the output
     * layer and the loss.
     */
    static List<StageCost> of(CostModel cm, boolean tied, DeviceSpec device, Placement placement, Scenario.Hardware hardware,
                              Recompute recompute, Optimizer optimizer, Partition partition, Optional<Scenario.Costs> profiled,
                              boolean splitBackward, StagePlacement stagePlacement) {
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
            long sendForward = last ? 0 : cm.p2pBytes();
            long sendBackward = k == 0 ? 0 : cm.p2pBytes();
            double params = rawParameters(cm, tied, partition, k, t) * scale;
            long staticBytes = Math.round(params * bytesPerParameter);
            int rank = stagePlacement.rankOf(k);
            long gradientBytes = Math.round(params * optimizer.gradientBytesPerParameter());
            RingAllReduce allReduce = RingAllReduce.ring(gradientBytes, d, placement.dataParallelLink(rank));
            if (hardware.dataParallelOverlap() && d > 1) {
                // PyTorch DDP (Li et al. 2020, "PyTorch Distributed", §3.2.3-3.2.4): gradients are all-reduced in
                // buckets of bucket_cap_mb = 25 MB as the last micro-batch's backward produces them (no_sync skips the
                // others); what that backward cannot hide is left, and at least the last bucket's all-reduce
                double window = backwardInput + backwardWeight; // the recomputed forward produces no gradient
                double lastBucket = RingAllReduce.ring(Math.min(gradientBytes, DDP_BUCKET_BYTES), d,
                        placement.dataParallelLink(rank)).seconds();
                allReduce = RingAllReduce.fixed(Math.max(allReduce.seconds() - window, lastBucket));
            }
            double optimizerSeconds = params * optimizer.stepBytesTouchedPerParameter() / device.memoryBandwidthBytesPerSecond();

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
                    (long) layers * layerStash, layers > 0 && recompute != Recompute.NONE ? recomputeBytes : 0,
                    staticBytes, allReduce, optimizerSeconds));
        }
        return out;
    }

    private static double pick(Optional<List<Double>> values, int k, double fallback) {
        if (values.isEmpty()) return fallback;
        List<Double> list = values.get();
        return list.size() == 1 ? list.get(0) : list.get(k);
    }
}
