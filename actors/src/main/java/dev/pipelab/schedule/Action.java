package dev.pipelab.schedule;

/**
 * One unit of work of one pipeline stage for one micro-batch. Its text form is {@code <stage><kind><mb>},
 * for example {@code 0F3} (stage 0, forward, micro-batch 3) or {@code 5W12}.
 *
 * <p>{@code stage} is the model stage (a contiguous group of layers). With interleaved schedules a
 * device (rank) holds several model stages (virtual stages); the rank of a stage is given by the
 * {@link Schedule}, never by the action.
 */
public record Action(int stage, Kind kind, int microBatch) {

    /** What an action computes. */
    public enum Kind {
        /** Forward pass of the stage's layers. */
        F,
        /** Backward pass: the input gradient, and also the weight gradient when the schedule does not split W off. */
        B,
        /** Weight-gradient pass, only in schedules that split the backward (zero-bubble schedules). */
        W,
        /** Recomputation of the forward activations a following B needs (activation checkpointing). */
        R
    }

    public Action {
        if (stage < 0) throw new IllegalArgumentException("stage must be >= 0, got " + stage);
        if (kind == null) throw new IllegalArgumentException("kind must be given");
        if (microBatch < 0) throw new IllegalArgumentException("microBatch must be >= 0, got " + microBatch);
    }

    public static Action f(int stage, int microBatch) { return new Action(stage, Kind.F, microBatch); }
    public static Action b(int stage, int microBatch) { return new Action(stage, Kind.B, microBatch); }
    public static Action w(int stage, int microBatch) { return new Action(stage, Kind.W, microBatch); }
    public static Action r(int stage, int microBatch) { return new Action(stage, Kind.R, microBatch); }

    /** The text form, {@code 0F3}. */
    @Override
    public String toString() {
        return Integer.toString(stage) + kind + microBatch;
    }
}
