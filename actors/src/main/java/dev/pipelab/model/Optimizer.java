package dev.pipelab.model;

import java.util.Optional;

/**
 * Optimizer and precision recipe, as bytes per parameter. Invariant: weights + gradients + state is
 * the resident memory per parameter, and each constant has exactly one scenario name.
 *
 * <p>Mixed-precision Adam after Rajbhandari et al. 2020 (ZeRO, §3.1: "2Ψ + 2Ψ + KΨ" with K = 12) and
 * the article: 140 + 140 + 840 GB for 70e9 parameters.
 */
public enum Optimizer {
    /** bf16 weights (2) and gradients (2); fp32 master weights, Adam m and v (4 + 4 + 4). */
    ADAM_MIXED("adam-mixed", 2, 2, 12),
    /** fp32 weights (4) and gradients (4); Adam m and v in fp32 (4 + 4). */
    ADAM_FP32("adam-fp32", 4, 4, 8),
    /** bf16 weights (2) and gradients (2); fp32 master weights and momentum (4 + 4). */
    SGD_MIXED("sgd-mixed", 2, 2, 8);

    private final String scenarioName;
    private final int weightBytes;
    private final int gradientBytes;
    private final int stateBytes;

    Optimizer(String scenarioName, int weightBytes, int gradientBytes, int stateBytes) {
        this.scenarioName = scenarioName;
        this.weightBytes = weightBytes;
        this.gradientBytes = gradientBytes;
        this.stateBytes = stateBytes;
    }

    /** The name used in scenario files: {@code adam-mixed}, {@code adam-fp32}, {@code sgd-mixed}. */
    public String scenarioName() {
        return scenarioName;
    }

    /** The recipe named {@code name} in a scenario file (exact, lower case), or empty. */
    public static Optional<Optimizer> parse(String name) {
        for (Optimizer o : values()) {
            if (o.scenarioName.equals(name)) return Optional.of(o);
        }
        return Optional.empty();
    }

    /** Bytes per parameter of the weights the forward and backward passes read. */
    public int weightBytesPerParameter() {
        return weightBytes;
    }

    /** Bytes per parameter of the gradients (also the element size of the data-parallel all-reduce). */
    public int gradientBytesPerParameter() {
        return gradientBytes;
    }

    /** Bytes per parameter of optimizer state (master weights, moments). */
    public int stateBytesPerParameter() {
        return stateBytes;
    }

    /** weights + gradients + state. */
    public int totalBytesPerParameter() {
        return weightBytes + gradientBytes + stateBytes;
    }

    /**
     * Device-memory traffic of one optimizer step per parameter, for a bandwidth-bound step time.
     * Count (each tensor read once and, if updated, written once; no fused kernel tricks):
     * <ul>
     *   <li>adam-mixed: read gradient 2, master 4, m 4, v 4; write master 4, m 4, v 4, bf16 weight 2 = 28</li>
     *   <li>adam-fp32: read gradient 4, weight 4, m 4, v 4; write weight 4, m 4, v 4 = 28</li>
     *   <li>sgd-mixed: read gradient 2, master 4, momentum 4; write master 4, momentum 4, bf16 weight 2 = 20</li>
     * </ul>
     * In every recipe that is {@code gradient + 2·state + weight} bytes for mixed precision and
     * {@code gradient + 2·(weight + state)} for fp32.
     */
    public int stepBytesTouchedPerParameter() {
        return switch (this) {
            case ADAM_MIXED, SGD_MIXED -> gradientBytes + 2 * stateBytes + weightBytes;
            case ADAM_FP32 -> gradientBytes + 2 * (weightBytes + stateBytes);
        };
    }
}
