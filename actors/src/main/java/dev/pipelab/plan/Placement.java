package dev.pipelab.plan;

import dev.pipelab.model.LinkSpec;
import dev.pipelab.schedule.Network;

/**
 * Where the devices of a (p, d, t) plan sit on nodes, in Megatron-LM's rank order: tensor-parallel ranks
 * innermost, then data-parallel, then pipeline ({@code device = pp·d·t + dp·t + tp}), so that the
 * bandwidth-hungry tensor-parallel group shares a node first. Invariant: {@code devicesPerNode >= 1}.
 */
public record Placement(int pipeline, int data, int tensor, int devicesPerNode, LinkSpec intraNode, LinkSpec interNode) {

    public Placement {
        if (devicesPerNode < 1) throw new IllegalArgumentException("devicesPerNode must be >= 1, got " + devicesPerNode);
    }

    /** Global device id of pipeline rank {@code pp}, replica {@code dp}, tensor rank {@code tp}. */
    public int device(int pp, int dp, int tp) {
        return (pp * data + dp) * tensor + tp;
    }

    public int node(int device) {
        return device / devicesPerNode;
    }

    public int devices() {
        return pipeline * data * tensor;
    }

    public int nodes() {
        return (devices() + devicesPerNode - 1) / devicesPerNode;
    }

    /** The link between two pipeline ranks of replica 0 (every replica is placed alike). */
    public LinkSpec pipelineLink(int fromRank, int toRank) {
        return node(device(fromRank, 0, 0)) == node(device(toRank, 0, 0)) ? intraNode : interNode;
    }

    /** The pipeline's links as the evaluator wants them. */
    public Network network() {
        return this::pipelineLink;
    }

    /** The slowest link of the ring among the d replicas of pipeline rank {@code pp}. */
    public LinkSpec dataParallelLink(int pp) {
        return node(device(pp, 0, 0)) == node(device(pp, data - 1, tensor - 1)) ? intraNode : interNode;
    }

    /** The link of the tensor-parallel group (within a node when t divides the node, else across). */
    public LinkSpec tensorParallelLink() {
        return tensor <= devicesPerNode ? intraNode : interNode;
    }
}
