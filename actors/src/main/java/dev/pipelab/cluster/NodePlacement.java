package dev.pipelab.cluster;

/**
 * Which node (index into the run's list of {@link Host}s) hosts the stage of pipeline rank {@code rank} of
 * replica {@code replica}. Links live with their sender. Invariant: returns an index of an existing host.
 */
@FunctionalInterface
public interface NodePlacement {

    int node(int replica, int rank);

    /** Everything on node 0 (the embedded default). */
    NodePlacement ONE_NODE = (replica, rank) -> 0;
}
