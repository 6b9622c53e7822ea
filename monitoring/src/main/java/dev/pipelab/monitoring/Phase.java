package dev.pipelab.monitoring;

/** What a stage spends time on. Matches the schedule's action kinds (F, B, W, R) plus the optimizer step. */
public enum Phase {
    /** Forward pass. */
    F,
    /** Backward pass (input gradient, and weight gradient when not split). */
    B,
    /** Weight-gradient pass of split-backward schedules. */
    W,
    /** Activation recomputation before a backward. */
    R,
    /** Optimizer step. */
    OPT
}
