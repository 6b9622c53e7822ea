package dev.pipelab.schedule;

import java.util.Arrays;

/**
 * The exact timeline of one training step, as computed by {@link Evaluator}. Invariant: for every rank the
 * actions' [start, end) intervals follow the schedule's order without overlap, and
 * {@code stepTimeSeconds} is the latest optimizer end over all ranks.
 *
 * <p>Actions are addressed by a flat index: action {@code j} of rank {@code r} is {@code rowStart(r) + j}.
 * Arrays are owned by this object; accessors return copies or single values.
 */
public final class Timeline {

    private final Schedule schedule;
    private final double stepTimeSeconds;
    private final int[] rowStart;
    private final double[] start;
    private final double[] end;
    private final double[] transferStart;
    private final int[] sendLink;
    private final int[] consumer;
    private final double[] arrivalByConsumer;
    private final double[] busySeconds;
    private final double[] optimizerStart;
    private final double[] optimizerEnd;
    private final double[] allReduceStart;
    private final double[] allReduceEnd;
    private final long[] peakMemoryBytes;
    private final int[] peakInFlight;
    private final int[][] linkPairs;
    private final long[] linkBytes;
    private final double[] linkBusySeconds;
    private final double[] linkStallSeconds;

    Timeline(Schedule schedule, double stepTimeSeconds, int[] rowStart, double[] start, double[] end,
             double[] transferStart, int[] sendLink, int[] consumer, double[] arrivalByConsumer, double[] busySeconds,
             double[] optimizerStart, double[] optimizerEnd, double[] allReduceStart, double[] allReduceEnd,
             long[] peakMemoryBytes, int[] peakInFlight, int[][] linkPairs, long[] linkBytes,
             double[] linkBusySeconds, double[] linkStallSeconds) {
        this.schedule = schedule;
        this.stepTimeSeconds = stepTimeSeconds;
        this.rowStart = rowStart;
        this.start = start;
        this.end = end;
        this.transferStart = transferStart;
        this.sendLink = sendLink;
        this.consumer = consumer;
        this.arrivalByConsumer = arrivalByConsumer;
        this.busySeconds = busySeconds;
        this.optimizerStart = optimizerStart;
        this.optimizerEnd = optimizerEnd;
        this.allReduceStart = allReduceStart;
        this.allReduceEnd = allReduceEnd;
        this.peakMemoryBytes = peakMemoryBytes;
        this.peakInFlight = peakInFlight;
        this.linkPairs = linkPairs;
        this.linkBytes = linkBytes;
        this.linkBusySeconds = linkBusySeconds;
        this.linkStallSeconds = linkStallSeconds;
    }

    public Schedule schedule() { return schedule; }

    public double stepTimeSeconds() { return stepTimeSeconds; }

    public int ranks() { return schedule.ranks(); }

    /** Flat index of the first action of {@code rank}. */
    public int rowStart(int rank) { return rowStart[rank]; }

    public int actionCount() { return start.length; }

    public Action action(int rank, int position) { return schedule.actions(rank).get(position); }

    public double start(int rank, int position) { return start[rowStart[rank] + position]; }

    public double end(int rank, int position) { return end[rowStart[rank] + position]; }

    /**
     * When the message this action sends left on its link, or {@code NaN} when it sends nothing or the
     * receiver is on the same rank.
     */
    public double transferStart(int rank, int position) {
        int i = rowStart[rank] + position;
        return sendLink[i] >= 0 ? transferStart[i] : Double.NaN;
    }

    /** When this action's output arrived at its consumer, or {@code NaN} when it sends nothing. */
    public double arrival(int rank, int position) {
        int c = consumer[rowStart[rank] + position];
        return c < 0 ? Double.NaN : arrivalByConsumer[c];
    }

    /** The link index this action's message travels on, or -1. */
    public int sendLink(int rank, int position) { return sendLink[rowStart[rank] + position]; }

    /** Compute time of the rank (actions and optimizer step). */
    public double busySeconds(int rank) { return busySeconds[rank]; }

    /** Idle compute time of the rank within the step: {@code stepTime - busy}. */
    public double idleSeconds(int rank) { return stepTimeSeconds - busySeconds[rank]; }

    public double optimizerStart(int rank) { return optimizerStart[rank]; }

    public double optimizerEnd(int rank) { return optimizerEnd[rank]; }

    public double allReduceStart(int stage) { return allReduceStart[stage]; }

    public double allReduceEnd(int stage) { return allReduceEnd[stage]; }

    /** Static bytes plus the peak of live activation bytes on the rank. */
    public long peakMemoryBytes(int rank) { return peakMemoryBytes[rank]; }

    /**
     * Most (stage, micro-batch) pairs of the rank, over all its model stages, whose forward has started and whose last
     * backward has not ended.
     */
    public int peakInFlight(int rank) { return peakInFlight[rank]; }

    /**
     * Idle stage-time over total stage-time: {@code (p * stepTime - sum(busy)) / (p * stepTime)}; with uniform
     * stages and free links this is (p-1)/(m+p-1) for GPipe and 1F1B. Computed as one division so that a
     * rational result comes out correctly rounded.
     */
    public double bubbleFraction() {
        if (stepTimeSeconds == 0) return 0;
        double busy = 0;
        for (double b : busySeconds) busy += b;
        double total = ranks() * stepTimeSeconds;
        return (total - busy) / total;
    }

    public int linkCount() { return linkPairs.length; }

    /** {from rank, to rank} of link {@code l}. */
    public int[] linkRanks(int l) { return linkPairs[l].clone(); }

    public long linkBytes(int l) { return linkBytes[l]; }

    public double linkBusySeconds(int l) { return linkBusySeconds[l]; }

    /** Time the link's sender waited for credit alone. */
    public double linkStallSeconds(int l) { return linkStallSeconds[l]; }

    @Override
    public String toString() {
        return "Timeline[" + schedule.name() + " p=" + ranks() + " step=" + stepTimeSeconds + "s busy="
                + Arrays.toString(busySeconds) + "]";
    }
}
