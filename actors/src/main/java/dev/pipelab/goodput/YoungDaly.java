package dev.pipelab.goodput;

/**
 * The first-order optimum checkpoint interval: {@code tau = sqrt(2 · C · MTBF)} of compute between checkpoints, with
 * {@code C} the seconds one checkpoint takes to write and {@code MTBF} the job's mean time between failures (J. W.
 * Young, "A first order approximation to the optimum checkpoint interval", CACM 17(9), 1974; J. T. Daly, "A higher
 * order estimate of the optimum checkpoint interval for restart dumps", FGCS 22(3), 2006, whose first-order term is the
 * same). It neglects the restart and the checkpoint read, and assumes failures far rarer than checkpoints, so it is a
 * reference for a sweep's best interval, not a replacement for it. Invariant: all three inputs are {@code > 0}.
 *
 * @param checkpointSeconds writing one checkpoint
 * @param mtbfSeconds       the job's mean time between failures
 * @param stepSeconds       one fault-free training step, to express tau in steps
 */
public record YoungDaly(double checkpointSeconds, double mtbfSeconds, double stepSeconds) {

    public YoungDaly {
        if (!(checkpointSeconds > 0)) throw new IllegalArgumentException("checkpointSeconds must be > 0, got " + checkpointSeconds);
        if (!(mtbfSeconds > 0)) throw new IllegalArgumentException("mtbfSeconds must be > 0, got " + mtbfSeconds);
        if (!(stepSeconds > 0)) throw new IllegalArgumentException("stepSeconds must be > 0, got " + stepSeconds);
    }

    /** The optimum's compute time between two checkpoints, in seconds (+Infinity without failures). */
    public double tauSeconds() {
        return Math.sqrt(2 * checkpointSeconds * mtbfSeconds);
    }

    /** The optimum in training steps (not rounded: a reader sees how far a whole interval is from it). */
    public double steps() {
        return tauSeconds() / stepSeconds;
    }

    /** How far {@code intervalSteps} is from the optimum, relative to it: {@code (interval - tau) / tau}. */
    public double relativeGap(double intervalSteps) {
        return (intervalSteps - steps()) / steps();
    }
}
