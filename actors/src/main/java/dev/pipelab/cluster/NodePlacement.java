package dev.pipelab.cluster;

import java.util.Optional;
import java.util.Set;

/**
 * Which node (index into the run's list of {@link Host}s) hosts the stage of pipeline rank {@code rank} of
 * replica {@code replica}. Links live with their sender: a pipeline link {@code from -> to} and the ring all-reduce
 * link from replica x to x+1 are spawned on the node of the stage that sends on them. Invariant: returns an index of
 * an existing host.
 */
@FunctionalInterface
public interface NodePlacement {

    int node(int replica, int rank);

    /**
     * The same placement with the stages of the {@code lost} nodes moved to surviving nodes that have free slots
     * (every other stage stays where it is), or empty when the survivors have no room for them.
     */
    default Optional<NodePlacement> without(Set<Integer> lost) {
        return Optional.empty();
    }

    /** Everything on node 0 (the embedded default). */
    NodePlacement ONE_NODE = (replica, rank) -> 0;
}
