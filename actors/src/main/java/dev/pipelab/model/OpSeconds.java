package dev.pipelab.model;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The seconds of {@link LayerOps}' kernels on one device at full speed (before the scenario's efficiency divides
 * them), per micro-batch and tensor rank. Invariant: each figure is {@link LayerOps#seconds} of the matching op list;
 * results are cached per shape, device and policy, because search asks for the same few shapes thousands of times.
 *
 * @param layerForward         one layer's F
 * @param layerBackwardInput   one layer's B
 * @param layerBackwardWeight  one layer's W
 * @param layerRecompute       one layer's recomputation under the policy
 * @param outputForward        the output layer and loss, F
 * @param outputBackwardInput  the output layer and loss, B
 * @param outputBackwardWeight the output layer, W
 * @param embeddingForward     the input embedding, F
 * @param embeddingBackwardWeight the input embedding's gradient, W
 */
public record OpSeconds(double layerForward, double layerBackwardInput, double layerBackwardWeight, double layerRecompute,
                        double outputForward, double outputBackwardInput, double outputBackwardWeight,
                        double embeddingForward, double embeddingBackwardWeight) {

    private record Key(LayerOps ops, DeviceSpec device, Recompute recompute) {}

    private static final Map<Key, OpSeconds> CACHE = new ConcurrentHashMap<>();

    /** The seconds of every op list of {@code ops} on {@code device}. */
    public static OpSeconds of(LayerOps ops, DeviceSpec device, Recompute recompute) {
        return CACHE.computeIfAbsent(new Key(ops, device, recompute), k -> compute(ops, device, recompute));
    }

    private static OpSeconds compute(LayerOps ops, DeviceSpec device, Recompute recompute) {
        return new OpSeconds(LayerOps.seconds(ops.forward(), device), LayerOps.seconds(ops.backwardInput(), device),
                LayerOps.seconds(ops.backwardWeight(), device), LayerOps.seconds(ops.recompute(recompute), device),
                LayerOps.seconds(ops.outputForward(), device), LayerOps.seconds(ops.outputBackwardInput(), device),
                LayerOps.seconds(ops.outputBackwardWeight(), device), LayerOps.seconds(ops.embeddingForward(), device),
                LayerOps.seconds(ops.embeddingBackwardWeight(), device));
    }
}
