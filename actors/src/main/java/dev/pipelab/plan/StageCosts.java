package dev.pipelab.plan;

import dev.pipelab.model.CostModel;
import dev.pipelab.model.DeviceSpec;
import dev.pipelab.model.LinkSpec;
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

    private StageCosts() {}

    /** Parameters (per tensor rank) held by model stage {@code k} of {@code stages}, before any override scaling. */
    static double rawParameters(CostModel cm, boolean tied, Partition partition, int k, int tensor) {
        int stages = partition.layersPerStage().size();
        double params = (double) partition.layersPerStage().get(k) * cm.layerParameters();
        if (k == 0) params += cm.embeddingParameters();
        if (k == stages - 1 && (stages > 1 || !tied)) params += tied ? cm.embeddingParameters() : cm.outputParameters();
        return params / tensor;
    }

    static List<StageCost> of(CostModel cm, boolean tied, DeviceSpec device, Placement placement, double efficiency,
                              Recompute recompute, Optimizer optimizer, Partition partition, Optional<Scenario.Costs> profiled,
                              boolean splitBackward, StagePlacement stagePlacement) {
        int stages = partition.layersPerStage().size();
        int t = placement.tensor();
        int d = placement.data();
        double rate = device.peakFlopsPerSecond() * efficiency;
        LinkSpec tpLink = placement.tensorParallelLink();
        double tpForward = cm.tensorParallelSecondsPerLayer(tpLink);
        double tpBackward = cm.tensorParallelBackwardSecondsPerLayer(tpLink);
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
            boolean last = k == stages - 1;
            double forward = (layers * cm.layerForwardFlops() + (last ? cm.outputLayerForwardFlops() : 0)) / rate
                    + layers * tpForward;
            double backwardInput = (layers * cm.layerBackwardInputFlops() + (last ? cm.outputLayerBackwardInputFlops() : 0)) / rate
                    + layers * tpBackward;
            double backwardWeight = (layers * cm.layerBackwardWeightFlops() + (last ? cm.outputLayerBackwardWeightFlops() : 0)) / rate;
            double recomputeSeconds = layers * cm.layerRecomputeFlops(recompute) / rate
                    + (recompute == Recompute.FULL ? layers * tpForward : 0);
            long sendForward = last ? 0 : cm.p2pBytes();
            long sendBackward = k == 0 ? 0 : cm.p2pBytes();
            double params = rawParameters(cm, tied, partition, k, t) * scale;
            long staticBytes = Math.round(params * bytesPerParameter);
            int rank = stagePlacement.rankOf(k);
            RingAllReduce allReduce = RingAllReduce.ring(Math.round(params * optimizer.gradientBytesPerParameter()), d,
                    placement.dataParallelLink(rank));
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
