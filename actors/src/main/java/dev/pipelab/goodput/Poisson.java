package dev.pipelab.goodput;

/**
 * Quantiles of the Poisson distribution, to say which interruption counts a rate makes plausible: a published count
 * (the Llama 3 report's 466 interruptions in 54 days) is consistent with a rate when it falls in the central 95% range
 * of the count the rate predicts. The probabilities are summed exactly from a little below the mean, each computed
 * in logarithms so that a large mean does not underflow {@code e^-mean}.
 */
public final class Poisson {

    private Poisson() {}

    /** A central range of counts: {@code P(X < low) <= (1 - level) / 2} and {@code P(X > high) <= (1 - level) / 2}. */
    public record Range(long low, long high) {}

    /** The central 95% range of a Poisson count of mean {@code mean}. */
    public static Range range95(double mean) {
        return new Range(quantile(mean, 0.025), quantile(mean, 0.975));
    }

    /** The smallest count {@code k} with {@code P(X <= k) >= p}, for {@code X} Poisson of mean {@code mean}. */
    public static long quantile(double mean, double p) {
        if (!(mean >= 0) || Double.isInfinite(mean)) throw new IllegalArgumentException("mean must be finite and >= 0, got " + mean);
        if (!(p > 0 && p < 1)) throw new IllegalArgumentException("p must be in (0, 1), got " + p);
        if (mean == 0) return 0;
        // below 10 standard deviations (and 30 counts) under the mean lies less than 1e-15 of the probability: start there
        long from = Math.max(0, (long) Math.floor(mean - 10 * Math.sqrt(mean) - 30));
        double logMean = Math.log(mean);
        double cdf = 0;
        for (long k = from; ; k++) {
            cdf += Math.exp(-mean + k * logMean - logFactorial(k));
            if (cdf >= p) return k;
        }
    }

    /** {@code ln k!}: summed below 64, Stirling's series above (the first term it leaves out is below 1e-12 there). */
    static double logFactorial(long k) {
        if (k < 64) {
            double s = 0;
            for (int i = 2; i <= k; i++) s += Math.log(i);
            return s;
        }
        double n = k;
        return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + 1 / (12 * n) - 1 / (360 * n * n * n);
    }
}
