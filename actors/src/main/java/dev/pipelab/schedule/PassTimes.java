package dev.pipelab.schedule;

/**
 * Profiled times of one stage's passes, the input of {@link ZeroBubbleAuto} (Qi et al. 2023, "Zero Bubble Pipeline
 * Parallelism", §3: T_F, T_B, T_W and T_comm). Invariant: every time is finite and non-negative.
 *
 * @param forwardSeconds         T_F, one forward pass
 * @param backwardInputSeconds   T_B, the input-gradient half of the backward
 * @param backwardWeightSeconds  T_W, the weight-gradient half of the backward
 * @param commSeconds            T_comm, one activation or gradient message between neighbouring ranks
 */
public record PassTimes(double forwardSeconds, double backwardInputSeconds, double backwardWeightSeconds,
                        double commSeconds) {

    public PassTimes {
        require("forwardSeconds", forwardSeconds);
        require("backwardInputSeconds", backwardInputSeconds);
        require("backwardWeightSeconds", backwardWeightSeconds);
        require("commSeconds", commSeconds);
    }

    private static void require(String what, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) throw new IllegalArgumentException(what + " must be finite and >= 0, got " + v);
    }
}
