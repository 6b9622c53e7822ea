package dev.pipelab.link;

import dev.pipelab.model.LinkSpec;

/**
 * The pure timing of one FIFO link direction. Invariant: messages leave in the order they are handed over;
 * a transfer starts at {@code max(link free, ready[, now])}, keeps the link busy for
 * {@code occupancy = spec.occupancySeconds(bytes)} and arrives at {@code start + occupancy + latency}
 * (added in exactly that order, as the evaluator and {@code RingAllReduce.endFrom} do).
 */
public final class LinkState {

    /** When a transfer left and arrived. */
    public record Transit(double start, double arrival) {}

    private final LinkSpec spec;
    private double free;
    private double busySeconds;
    private long bytes;
    private int messages;

    public LinkState(LinkSpec spec) {
        this.spec = spec;
    }

    public LinkSpec spec() { return spec; }

    /** A new step: the link is free at 0. */
    public void reset() {
        free = 0;
        busySeconds = 0;
        bytes = 0;
        messages = 0;
    }

    /** Sends on this link's own spec. */
    public Transit send(long bytes, double ready, double now) {
        return send(spec, bytes, ready, now);
    }

    /** Sends with {@code spec} (a ring link carries each stage's all-reduce on that stage's link spec). */
    public Transit send(LinkSpec spec, long bytes, double ready, double now) {
        double ts = Math.max(free, ready);
        if (now > ts) ts = now;
        double occupancy = spec.occupancySeconds(bytes);
        free = ts + occupancy;
        busySeconds += occupancy;
        this.bytes += bytes;
        messages++;
        return new Transit(ts, ts + occupancy + spec.latencySeconds());
    }

    public double busySeconds() { return busySeconds; }

    public long bytes() { return bytes; }

    public int messages() { return messages; }
}
