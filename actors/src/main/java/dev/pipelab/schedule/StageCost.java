package dev.pipelab.schedule;

/**
 * What one model stage costs per micro-batch, as the evaluator and the actor runtime consume it.
 * Invariant: every duration and byte count is finite and non-negative.
 *
 * <p>Memory semantics (shared by the evaluator and the runtime, so that both report the same peak): an
 * {@code F} allocates {@code stashBytes} when it starts; an {@code R} allocates {@code recomputeBytes} when it
 * starts; the last backward action of that micro-batch on the stage ({@code B}, or {@code W} where the
 * schedule splits the backward) frees both when it ends.
 *
 * @param forwardSeconds         duration of F
 * @param backwardInputSeconds   duration of B when the backward is split (input gradient only)
 * @param backwardWeightSeconds  duration of W; an unsplit B lasts {@code backwardInputSeconds + backwardWeightSeconds}
 * @param recomputeSeconds       duration of R (0 when nothing is recomputed)
 * @param sendForwardBytes       bytes of the activation F sends to the next stage
 * @param sendBackwardBytes      bytes of the input gradient B sends to the previous stage
 * @param stashBytes             activation bytes F keeps until the backward is done
 * @param recomputeBytes         bytes R re-materialises for the backward
 * @param staticBytes            parameters, gradients and optimizer state of the stage
 * @param allReduce              data-parallel gradient all-reduce of the stage's gradients ({@link RingAllReduce#NONE} when d = 1)
 * @param optimizerSeconds       optimizer step of the stage's parameters
 */
public record StageCost(double forwardSeconds, double backwardInputSeconds, double backwardWeightSeconds,
                        double recomputeSeconds, long sendForwardBytes, long sendBackwardBytes, long stashBytes,
                        long recomputeBytes, long staticBytes, RingAllReduce allReduce, double optimizerSeconds) {

    public StageCost {
        requireTime("forwardSeconds", forwardSeconds);
        requireTime("backwardInputSeconds", backwardInputSeconds);
        requireTime("backwardWeightSeconds", backwardWeightSeconds);
        requireTime("recomputeSeconds", recomputeSeconds);
        if (allReduce == null) throw new IllegalArgumentException("allReduce must be given (RingAllReduce.NONE for none)");
        requireTime("optimizerSeconds", optimizerSeconds);
        requireBytes("sendForwardBytes", sendForwardBytes);
        requireBytes("sendBackwardBytes", sendBackwardBytes);
        requireBytes("stashBytes", stashBytes);
        requireBytes("recomputeBytes", recomputeBytes);
        requireBytes("staticBytes", staticBytes);
    }

    /** A stage with the given F, B and W times and nothing else: free links, no memory, no data parallelism. */
    public static StageCost compute(double forwardSeconds, double backwardInputSeconds, double backwardWeightSeconds) {
        return new StageCost(forwardSeconds, backwardInputSeconds, backwardWeightSeconds, 0, 0, 0, 0, 0, 0, RingAllReduce.NONE, 0);
    }

    /** This cost with another recomputation time. */
    public StageCost withRecompute(double seconds) {
        return new StageCost(forwardSeconds, backwardInputSeconds, backwardWeightSeconds, seconds, sendForwardBytes,
                sendBackwardBytes, stashBytes, recomputeBytes, staticBytes, allReduce, optimizerSeconds);
    }

    /** This cost with another optimizer time. */
    public StageCost withOptimizer(double seconds) {
        return new StageCost(forwardSeconds, backwardInputSeconds, backwardWeightSeconds, recomputeSeconds, sendForwardBytes,
                sendBackwardBytes, stashBytes, recomputeBytes, staticBytes, allReduce, seconds);
    }

    /** Duration of an action of this kind on this stage. */
    public double seconds(Action.Kind kind, boolean splitBackward) {
        return switch (kind) {
            case F -> forwardSeconds;
            case B -> splitBackward ? backwardInputSeconds : backwardInputSeconds + backwardWeightSeconds;
            case W -> backwardWeightSeconds;
            case R -> recomputeSeconds;
        };
    }

    private static void requireTime(String what, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) throw new IllegalArgumentException(what + " must be finite and >= 0, got " + v);
    }

    private static void requireBytes(String what, long v) {
        if (v < 0) throw new IllegalArgumentException(what + " must be >= 0, got " + v);
    }
}
