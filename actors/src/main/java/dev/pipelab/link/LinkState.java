package dev.pipelab.link;

import dev.pipelab.model.LinkSpec;

import java.util.Arrays;

/**
 * The pure timing of one FIFO link direction, and the sums of what it carried in the step. Invariant: messages leave
 * in the order they are handed over; a transfer starts at {@code max(link free, ready[, now])}, keeps the link busy for
 * {@code occupancy = spec.occupancySeconds(bytes)} and arrives at {@code start + occupancy + latency} (added in exactly
 * that order, as the evaluator and {@code RingAllReduce.endFrom} do).
 */
public final class LinkState {

    /** When a transfer left and arrived. */
    public record Transit(double start, double arrival) {}

    private final LinkSpec spec;
    private double free;
    private double busySeconds;
    private long bytes;
    private int messages;
    /** The transfers that waited for the link (ready before they left): when each was ready and when it left. */
    private double[] waitReady = new double[8];
    private double[] waitStart = new double[8];
    private int waits;

    public LinkState(LinkSpec spec) {
        this.spec = spec;
    }

    public LinkSpec spec() { return spec; }

    /** A new step: the link is free at 0 and has carried nothing. */
    public void reset() {
        free = 0;
        busySeconds = 0;
        bytes = 0;
        messages = 0;
        waits = 0;
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
        double arrival = ts + occupancy + spec.latencySeconds();
        busySeconds += arrival - ts;
        this.bytes += bytes;
        messages++;
        if (ts > ready) addWait(ready, ts);
        return new Transit(ts, arrival);
    }

    /** Sum of {@code arrival - start} over the step's transfers, in carrying order (a span includes the latency). */
    public double busySeconds() { return busySeconds; }

    public long bytes() { return bytes; }

    public int messages() { return messages; }

    /**
     * The most messages that were ready but had not yet left at any moment of the step; a wait that ends where another
     * begins does not stack on it.
     *
     * <p>Why sorting the ready and start times apart is exact: the depth at a time counts readies at or before it minus
     * starts at or before it, so only the two sorted sequences matter; and since every start follows its own ready, the
     * i-th smallest start follows the i-th smallest ready, so the sweep never takes more starts than readies.
     */
    public int maxQueueDepth() {
        double[] ready = Arrays.copyOf(waitReady, waits);
        double[] start = Arrays.copyOf(waitStart, waits);
        Arrays.sort(ready);
        Arrays.sort(start);
        int depth = 0;
        int max = 0;
        int j = 0;
        for (int i = 0; i < waits; ) {
            if (start[j] <= ready[i]) { // ties: the wait that ends leaves before the one that begins joins
                depth--;
                j++;
            } else {
                depth++;
                i++;
                if (depth > max) max = depth;
            }
        }
        return max;
    }

    private void addWait(double ready, double start) {
        if (waits == waitReady.length) {
            waitReady = Arrays.copyOf(waitReady, 2 * waits);
            waitStart = Arrays.copyOf(waitStart, 2 * waits);
        }
        waitReady[waits] = ready;
        waitStart[waits] = start;
        waits++;
    }
}
