package dev.pipelab.model;

import java.util.Optional;

/**
 * A ZeRO stage: which of the model states the d data-parallel ranks shard instead of replicating
 * (Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models", §5 and
 * Figure 1). Invariant: each stage shards what the one before it shards and one state more, and a state's
 * per-rank bytes are its whole bytes divided by d exactly when it is sharded.
 *
 * <p>Per rank, with Ψ parameters, N_d ranks and K bytes of optimizer state per parameter (mixed-precision Adam:
 * 2 + 2 + K with K = 12): baseline {@code (2+2+K)Ψ}; P_os {@code 2Ψ + 2Ψ + KΨ/N_d}; P_os+g
 * {@code 2Ψ + (2+K)Ψ/N_d}; P_os+g+p {@code (2+2+K)Ψ/N_d}. Megatron-LM's distributed optimizer
 * ({@code --use-distributed-optimizer}) is stage 1 (Megatron-LM, docs "Distributed Optimizer": the optimizer state
 * is sharded, gradients and parameters are not); PyTorch FSDP's FULL_SHARD is stage 3.
 */
public enum Zero {
    /** Plain data parallelism: every rank holds every state whole. */
    NONE(0),
    /** P_os: the optimizer state is sharded (Megatron-LM's distributed optimizer). */
    OPTIMIZER(1),
    /** P_os+g: the optimizer state and the gradients. */
    GRADIENTS(2),
    /** P_os+g+p: the optimizer state, the gradients and the parameters (FSDP's full shard). */
    PARAMETERS(3);

    private final int stage;

    Zero(int stage) {
        this.stage = stage;
    }

    /** The number used in scenario files ({@code parallelism.zero}): 0 to 3. */
    public int stage() {
        return stage;
    }

    /** The stage numbered {@code stage} (0 to 3), or empty. */
    public static Optional<Zero> of(int stage) {
        for (Zero z : values()) {
            if (z.stage == stage) return Optional.of(z);
        }
        return Optional.empty();
    }

    /** Per-rank bytes of the weights of {@code parameters} parameters over {@code ranks} data-parallel ranks. */
    public double weightBytes(double parameters, Optimizer optimizer, int ranks) {
        return parameters * optimizer.weightBytesPerParameter() / (stage >= 3 ? ranks : 1);
    }

    /** Per-rank bytes of their gradients. */
    public double gradientBytes(double parameters, Optimizer optimizer, int ranks) {
        return parameters * optimizer.gradientBytesPerParameter() / (stage >= 2 ? ranks : 1);
    }

    /** Per-rank bytes of their optimizer state. */
    public double optimizerBytes(double parameters, Optimizer optimizer, int ranks) {
        return parameters * optimizer.stateBytesPerParameter() / (stage >= 1 ? ranks : 1);
    }

    /** Per-rank bytes of all three model states: the ZeRO paper's Figure 1 formula for this stage. */
    public double modelStateBytes(double parameters, Optimizer optimizer, int ranks) {
        return weightBytes(parameters, optimizer, ranks) + gradientBytes(parameters, optimizer, ranks)
                + optimizerBytes(parameters, optimizer, ranks);
    }

    /**
     * Ring passes of d-1 chunk steps each that the data-parallel collective of one step makes (ZeRO §7.2):
     * stages 0 to 2 move 2 (an all-reduce, or for 1 and 2 a gradient reduce-scatter and a parameter all-gather of
     * the same volume, §7.2.1); stage 3 moves 3 (a parameter all-gather in the forward, another in the backward and the
     * gradient reduce-scatter: 1.5 times the volume, §7.2.2).
     */
    public int ringPasses() {
        return stage >= 3 ? 3 : 2;
    }

    /** Whether each rank's optimizer step updates only its 1/d shard (stages 1 to 3). */
    public boolean shardsOptimizerStep() {
        return stage >= 1;
    }
}
