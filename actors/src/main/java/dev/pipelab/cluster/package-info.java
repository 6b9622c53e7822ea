/**
 * Nodes: the per-node {@link dev.pipelab.cluster.Host} that spawns stages and links, from the behaviour factories its
 * node gave it, where a {@link dev.pipelab.cluster.NodePlacement} puts them; {@link dev.pipelab.cluster.Node} starts a
 * member of a multi-JVM cluster (worker or coordinator, {@code pipelab node}) and
 * {@link dev.pipelab.cluster.WorkerPlacement} places a run's stages on the workers ({@code pack} or {@code spread}).
 * Configuration: {@code pipelab.conf} on the class path, {@code cluster-config/} for multi-JVM setups.
 */
package dev.pipelab.cluster;
