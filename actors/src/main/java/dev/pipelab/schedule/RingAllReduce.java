package dev.pipelab.schedule;

import dev.pipelab.model.LinkSpec;

/**
 * A stage's data-parallel gradient all-reduce as the ring runs it: {@code steps} chunk messages of
 * {@code chunkBytes} one after another on {@code link} (reduce-scatter then all-gather: 2(d-1) steps,
 * docs/architecture.md, Cost model). Invariant: the end time is computed exactly as a chain of link transfers computes it,
 * {@code t = t + bytes/bandwidth + latency} per step, so the evaluator and the actor runtime (which sends the
 * real chunks) agree bit for bit.
 */
public record RingAllReduce(int steps, long chunkBytes, LinkSpec link) {

    /** No data parallelism: nothing to reduce. */
    public static final RingAllReduce NONE = new RingAllReduce(0, 0, LinkSpec.FREE);

    public RingAllReduce {
        if (steps < 0) throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        if (chunkBytes < 0) throw new IllegalArgumentException("chunkBytes must be >= 0, got " + chunkBytes);
        if (link == null) throw new IllegalArgumentException("link must be given");
    }

    /** A ring over {@code ranks} replicas reducing {@code bytes}: 2(d-1) steps of ceil(bytes/d). */
    public static RingAllReduce ring(long bytes, int ranks, LinkSpec link) {
        return ring(bytes, ranks, link, 2);
    }

    /**
     * {@code passes} ring passes of d-1 steps of ceil(bytes/d) each: 2 for an all-reduce (or a reduce-scatter and an
     * all-gather of the same tensor, ZeRO stages 1 and 2), 3 for ZeRO stage 3 (parameter all-gathers in the forward
     * and the backward, then the gradient reduce-scatter; Rajbhandari et al. 2020 §7.2.2).
     */
    public static RingAllReduce ring(long bytes, int ranks, LinkSpec link, int passes) {
        if (passes < 1) throw new IllegalArgumentException("passes must be >= 1, got " + passes);
        if (ranks <= 1) return NONE;
        return new RingAllReduce(passes * (ranks - 1), -Math.floorDiv(-bytes, ranks), link);
    }

    /** A profiled all-reduce time: one step of that latency. */
    public static RingAllReduce fixed(double seconds) {
        if (seconds == 0) return NONE;
        return new RingAllReduce(1, 0, new LinkSpec("profiled", Double.POSITIVE_INFINITY, seconds));
    }

    /** When an all-reduce that starts at {@code start} ends. */
    public double endFrom(double start) {
        double occupancy = link.occupancySeconds(chunkBytes);
        double t = start;
        for (int i = 0; i < steps; i++) t = t + occupancy + link.latencySeconds();
        return t;
    }

    /** Its duration when started at 0. */
    public double seconds() {
        return endFrom(0);
    }
}
