package dev.pipelab.model;

import java.util.Optional;

/**
 * How the attention core (scores, softmax, dropout, context) runs. Invariant: each constant has exactly one
 * scenario name, and both compute the same FLOPs in the forward.
 */
public enum Attention {
    /**
     * The scores {@code a·s²} per sequence are written to device memory, then softmax and dropout read and write
     * them (Megatron-LM 2021: a batched GEMM, the fused scale-mask-softmax kernel, dropout, a batched GEMM).
     */
    MATERIALISED("materialised"),
    /**
     * One fused kernel keeps the scores on chip (Dao et al. 2022, "FlashAttention", Algorithm 1): no {@code s²}
     * traffic; the backward recomputes the scores (Algorithm 4), so it runs five {@code s²·d} GEMMs, not four.
     */
    FLASH("flash");

    private final String scenarioName;

    Attention(String scenarioName) {
        this.scenarioName = scenarioName;
    }

    /** The name used in scenario files. */
    public String scenarioName() {
        return scenarioName;
    }

    /** The kernel named {@code name} in a scenario file (exact, lower case), or empty. */
    public static Optional<Attention> parse(String name) {
        for (Attention a : values()) {
            if (a.scenarioName.equals(name)) return Optional.of(a);
        }
        return Optional.empty();
    }
}
