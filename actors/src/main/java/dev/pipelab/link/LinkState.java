package dev.pipelab.link;

import dev.pipelab.model.LinkSpec;

import java.util.Arrays;

/**
 * The pure timing of one FIFO link direction, and the sums of what it carried in the step. Invariant: messages leave
 * in the order they are handed over; a transfer starts at {@code max(link free, ready[, now])}, keeps the link busy for
 * {@code occupancy = spec.occupancySeconds(bytes)} and arrives at {@code start + occupancy + latency} (added in exactly
 * that order, as the evaluator and {@code RingAllReduce.endFrom} do). Under a fault a message may take several
 * transmissions ({@link #transmit}, judged by {@link LinkFaults}): each occupies the link and counts in the bytes and
 * busy seconds, and the message counts once ({@link #carried}).
 */
public final class LinkState {

    /** When a transfer left and arrived. */
    public record Transit(double start, double arrival) {}

    private final LinkSpec spec;
    private double free;
    private double busySeconds;
    private long bytes;
    private int messages;
    private int transmissions;
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
        transmissions = 0;
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
        transmissions++;
        if (ts > ready) addWait(ready, ts);
        return new Transit(ts, arrival);
    }

    /** When a transmission ready at {@code ready} would leave: {@code max(link free, ready)}. */
    public double startFor(double ready) {
        return Math.max(free, ready);
    }

    /**
     * One transmission under a fault, not yet a carried message ({@link #carried}): it leaves at {@link #startFor},
     * keeps the link busy for {@code occupancy / bandwidthFactor} and arrives at {@code start + occupancy + latency +
     * extraLatencySeconds}. A dropped transmission is sent like any other: the wire carried it.
     */
    public Transit transmit(LinkSpec spec, long bytes, double ready, double bandwidthFactor, double extraLatencySeconds) {
        if (!(bandwidthFactor > 0)) throw new IllegalArgumentException("bandwidthFactor must be > 0, got " + bandwidthFactor);
        double ts = startFor(ready);
        double occupancy = spec.occupancySeconds(bytes) / bandwidthFactor;
        free = ts + occupancy;
        double arrival = ts + occupancy + spec.latencySeconds() + extraLatencySeconds;
        busySeconds += arrival - ts;
        this.bytes += bytes;
        transmissions++;
        if (ts > ready) addWait(ready, ts);
        return new Transit(ts, arrival);
    }

    /** A message got through (after one or more {@link #transmit}s): it counts once in {@link #messages}. */
    public void carried() {
        messages++;
    }

    /** Sum of {@code arrival - start} over the step's transfers, in carrying order (a span includes the latency). */
    public double busySeconds() { return busySeconds; }

    public long bytes() { return bytes; }

    /** Messages carried, each once. */
    public int messages() { return messages; }

    /** Transmissions sent, dropped ones and copies included ({@code == messages()} without faults). */
    public int transmissions() { return transmissions; }

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
