package dev.pipelab.model;

/** The feed-forward block of a decoder layer. */
public enum Mlp {
    /** Two matrices h x f and f x h with GELU (GPT-2/3, Megatron): 2·h·f parameters. */
    GELU,
    /** Three matrices (gate, up, down) with SiLU gating (LLaMA): 3·h·f parameters. */
    SWIGLU
}
