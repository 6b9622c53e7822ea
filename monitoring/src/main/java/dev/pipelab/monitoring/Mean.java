package dev.pipelab.monitoring;

/**
 * The arithmetic mean used for run-level numbers. Invariant: the mean of values that are all equal is that value,
 * bit for bit, so a run of identical virtual-time steps reports exactly the evaluator's per-step numbers (a plain
 * {@code sum / n} of n equal doubles can be off in the last bit).
 */
public final class Mean {

    private Mean() {}

    /** The mean of {@code values}; 0 for none. */
    public static double of(double[] values) {
        if (values.length == 0) return 0;
        boolean allEqual = true;
        double sum = 0;
        for (double v : values) {
            sum += v;
            if (Double.compare(v, values[0]) != 0) allEqual = false;
        }
        return allEqual ? values[0] : sum / values.length;
    }
}
