/**
 * Nodes: the per-node {@link dev.pipelab.cluster.Host} that spawns stages and links, from the behaviour factories its
 * node gave it, where a {@link dev.pipelab.cluster.NodePlacement} puts them; {@link dev.pipelab.cluster.Node} starts a
 * member of a multi-JVM cluster (worker or coordinator, {@code pipelab node}) and
 * {@link dev.pipelab.cluster.WorkerPlacement} places a run's stages on the workers ({@code pack} or {@code spread}).
 * {@link dev.pipelab.cluster.Compatibility} refuses a node of another cluster name or version, and
 * {@link dev.pipelab.cluster.TlsEngine} one whose certificate the cluster's CA did not sign; a node says so
 * ({@link dev.pipelab.cluster.Refusal}) rather than waiting silently.
 * Configuration: {@code pipelab.conf} on the class path, {@code cluster-config/} for multi-JVM setups.
 */
package dev.pipelab.cluster;
