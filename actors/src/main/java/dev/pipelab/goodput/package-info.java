/**
 * Goodput at scale: weeks of training emulated step by step ({@link dev.pipelab.goodput.Goodput}), with the
 * interruptions a rate model draws and exactly the recovery costs the actor runtime pays (the shared
 * {@link dev.pipelab.fault.RecoveryBook}), so that a virtual-time {@code pipelab run} of the same seeded interruptions
 * gives the same goodput, lost work and step counts (docs/goodput.md). Pure: no actors, no I/O.
 */
package dev.pipelab.goodput;
