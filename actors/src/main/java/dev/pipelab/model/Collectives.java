package dev.pipelab.model;

/**
 * Ring collectives as a sequence of identical chunk steps. Invariant: every time is the sum, added one
 * step at a time in order, of {@code latency + ceil(bytes / ranks) / bandwidth}, so that an actor
 * runtime that sends the same chunk messages through the same link arrives at the same double, bit for
 * bit.
 *
 * <p>Ring all-reduce (Patarasuk &amp; Yuan 2009; Thakur et al. 2005 §4.2): a reduce-scatter of
 * {@code d - 1} steps then an all-gather of {@code d - 1} steps, each step moving one chunk of
 * {@code N / d} bytes between neighbours; in closed form {@code 2(d-1)/d · N / bw + 2(d-1) · latency}
 * (docs/architecture.md, Cost model).
 */
public final class Collectives {

    private Collectives() {
    }

    /** Bytes of one ring chunk: {@code ceil(bytes / ranks)}. */
    public static long ringChunkBytes(long bytes, int ranks) {
        requireArgs(bytes, ranks);
        return ceilDiv(bytes, ranks);
    }

    /** Seconds of one ring step: {@code latency + ringChunkBytes / bandwidth}. */
    public static double ringStepSeconds(long bytes, int ranks, LinkSpec link) {
        return link.latencySeconds() + link.occupancySeconds(ringChunkBytes(bytes, ranks));
    }

    /** Ring all-reduce of {@code bytes} over {@code ranks}: 2(d-1) steps; 0 for one rank. */
    public static double ringAllReduceSeconds(long bytes, int ranks, LinkSpec link) {
        return steps(bytes, ranks, link, 2 * (ranks - 1));
    }

    /** Ring reduce-scatter of a {@code bytes} tensor over {@code ranks}: d-1 steps; 0 for one rank. */
    public static double reduceScatterSeconds(long bytes, int ranks, LinkSpec link) {
        return steps(bytes, ranks, link, ranks - 1);
    }

    /** Ring all-gather into a {@code bytes} tensor over {@code ranks}: d-1 steps; 0 for one rank. */
    public static double allGatherSeconds(long bytes, int ranks, LinkSpec link) {
        return steps(bytes, ranks, link, ranks - 1);
    }

    private static double steps(long bytes, int ranks, LinkSpec link, int count) {
        requireArgs(bytes, ranks);
        if (ranks == 1) return 0.0;
        double step = ringStepSeconds(bytes, ranks, link);
        double t = 0.0;
        for (int i = 0; i < count; i++) {
            t += step; // summed, not multiplied: the actor runtime sums real chunk messages
        }
        return t;
    }

    private static void requireArgs(long bytes, int ranks) {
        if (bytes < 0) throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
        if (ranks < 1) throw new IllegalArgumentException("ranks must be >= 1, got " + ranks);
    }

    static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }
}
