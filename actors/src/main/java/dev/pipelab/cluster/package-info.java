/**
 * Nodes: the per-node {@link dev.pipelab.cluster.Host} that spawns stages and links, from the behaviour factories its
 * node gave it, where a {@link dev.pipelab.cluster.NodePlacement} puts them. Configuration: {@code pipelab.conf} on
 * the class path, {@code cluster-config/} for multi-JVM setups.
 */
package dev.pipelab.cluster;
