package dev.pipelab.schedule;

import dev.pipelab.model.LinkSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A schedule flattened into arrays for the {@link Evaluator}: which action consumes which action's output, on
 * which link and with which sequence number. Invariant: it depends only on the schedule, never on costs, so one
 * compiled schedule evaluates many cost variants (what {@code pipelab search} does).
 */
public final class CompiledSchedule {

    private static final byte F = 0, B = 1, W = 2, R = 3;

    final Schedule schedule;
    final int p;
    final int numStages;
    final int m;
    final boolean split;
    final int n;
    final int[] rowStart;
    final byte[] kind;
    final int[] stageOf;
    final int[] mbOf;
    final int[] consumer;
    final int[] sendLink;
    final int[] sendSeq;
    final boolean[] needsInput;
    final int[][] consumerOfMessage;
    final List<int[]> linkPairs;

    CompiledSchedule(Schedule schedule) {
        this.schedule = schedule;
        final int p = schedule.ranks();
        final int numStages = schedule.stages();
        final int m = schedule.microBatches();
        this.p = p;
        this.numStages = numStages;
        this.m = m;
        this.split = schedule.splitBackward();

        // ---- flatten the schedule: action i of rank r has global index rowStart[r] + position ----
        final Routing routing = Routing.of(schedule);
        final int n = schedule.size();
        this.n = n;
        final int[] rowStart = new int[p + 1];
        final byte[] kind = new byte[n];
        final int[] stageOf = new int[n];
        final int[] mbOf = new int[n];
        final boolean[] needsInput = new boolean[n];
        int idx = 0;
        for (int r = 0; r < p; r++) {
            rowStart[r] = idx;
            for (Action a : schedule.actions(r)) {
                kind[idx] = (byte) a.kind().ordinal();
                stageOf[idx] = a.stage();
                mbOf[idx] = a.microBatch();
                needsInput[idx] = Routing.needsInput(a, numStages);
                idx++;
            }
        }
        rowStart[p] = n;

        // ---- messages in global indices; links numbered in order of their first message (rank, then position) ----
        final int[] linkId = new int[p * p];
        Arrays.fill(linkId, -1);
        final List<int[]> linkPairs = new ArrayList<>();
        final List<int[]> linkConsumers = new ArrayList<>();
        final int[] consumer = new int[n];
        final int[] sendLink = new int[n];
        final int[] sendSeq = new int[n];
        Arrays.fill(consumer, -1);
        Arrays.fill(sendLink, -1);
        for (int r = 0; r < p; r++) {
            for (int i = rowStart[r]; i < rowStart[r + 1]; i++) {
                int dst = routing.outRank(r, i - rowStart[r]);
                if (dst == Routing.NONE) continue;
                consumer[i] = rowStart[dst] + routing.outPosition(r, i - rowStart[r]);
                if (dst == r) continue;
                int key = r * p + dst;
                if (linkId[key] < 0) {
                    linkId[key] = linkPairs.size();
                    linkPairs.add(new int[] {r, dst});
                    int[] consumers = new int[routing.messages(r, dst)];
                    for (int seq = 0; seq < consumers.length; seq++) consumers[seq] = rowStart[dst] + routing.consumer(r, dst, seq);
                    linkConsumers.add(consumers);
                }
                sendLink[i] = linkId[key];
                sendSeq[i] = routing.outSeq(r, i - rowStart[r]);
            }
        }
        final int[][] consumerOfMessage = linkConsumers.toArray(new int[0][]);
        this.rowStart = rowStart;
        this.kind = kind;
        this.stageOf = stageOf;
        this.mbOf = mbOf;
        this.consumer = consumer;
        this.sendLink = sendLink;
        this.sendSeq = sendSeq;
        this.needsInput = needsInput;
        this.consumerOfMessage = consumerOfMessage;
        this.linkPairs = linkPairs;
    }

    public Schedule schedule() {
        return schedule;
    }

    /** Evaluates one step with these costs (see {@link Evaluator} for the rules). */
    public Timeline evaluate(List<StageCost> stages, Network network, int linkBuffer) {
        if (stages.size() != numStages) {
            throw new IllegalArgumentException("expected " + numStages + " stage costs, got " + stages.size());
        }
        if (linkBuffer < 1) throw new IllegalArgumentException("linkBuffer must be >= 1, got " + linkBuffer);
        final int p = this.p;
        final int n = this.n;
        final int numStages = this.numStages;
        final boolean split = this.split;
        final int[] rowStart = this.rowStart;
        final byte[] kind = this.kind;
        final int[] stageOf = this.stageOf;
        final int[] consumer = this.consumer;
        final int[] sendLink = this.sendLink;
        final int[] sendSeq = this.sendSeq;
        final boolean[] needsInput = this.needsInput;
        final int[][] consumerOfMessage = this.consumerOfMessage;
        final int links = linkPairs.size();
        final int UNBOUNDED = Evaluator.UNBOUNDED;

        final double[][] durationOf = new double[numStages][4];
        final long[][] bytesOf = new long[numStages][2];
        for (int k = 0; k < numStages; k++) {
            StageCost sc = stages.get(k);
            for (Action.Kind kk : Action.Kind.values()) durationOf[k][kk.ordinal()] = sc.seconds(kk, split);
            bytesOf[k][0] = sc.sendForwardBytes();
            bytesOf[k][1] = sc.sendBackwardBytes();
        }
        final double[] duration = new double[n];
        for (int i = 0; i < n; i++) duration[i] = durationOf[stageOf[i]][kind[i]];

        final LinkSpec[] linkSpec = new LinkSpec[links];
        for (int l = 0; l < links; l++) linkSpec[l] = network.link(linkPairs.get(l)[0], linkPairs.get(l)[1]);

        // ---- list scheduling ----
        final double[] start = new double[n];
        final double[] end = new double[n];
        final double[] arrival = new double[n];
        final boolean[] started = new boolean[n];   // zeroed by allocation: no extra pass
        final boolean[] arrived = new boolean[n];
        final double[] transferStart = new double[n];
        final double[] rankFree = new double[p];
        final int[] next = Arrays.copyOf(rowStart, p);
        final double[] linkFree = new double[links];
        final double[] linkBusy = new double[links];
        final double[] linkStall = new double[links];
        final long[] linkBytes = new long[links];
        int remaining = n;
        while (remaining > 0) {
            boolean progress = false;
            for (int r = 0; r < p; r++) {
                int i = next[r];
                final int rowEnd = rowStart[r + 1];
                while (i < rowEnd) {
                    double ready = rankFree[r];
                    if (needsInput[i]) {
                        if (!arrived[i]) break; // input not produced yet
                        double in = arrival[i];
                        if (in > ready) ready = in;
                    }
                    int l = sendLink[i];
                    if (l >= 0 && linkBuffer != UNBOUNDED && sendSeq[i] >= linkBuffer) {
                        int holder = consumerOfMessage[l][sendSeq[i] - linkBuffer];
                        if (!started[holder]) break; // the buffer slot is not free yet
                        double credit = start[holder];
                        if (credit > ready) {
                            linkStall[l] += credit - ready;
                            ready = credit;
                        }
                    }
                    start[i] = ready;
                    started[i] = true;
                    double e = ready + duration[i];
                    end[i] = e;
                    rankFree[r] = e;
                    int c = consumer[i];
                    if (c >= 0) {
                        arrived[c] = true;
                        if (l < 0) {
                            arrival[c] = e;
                        } else {
                            long bytes = bytesOf[stageOf[i]][kind[i] == F ? 0 : 1];
                            double ts = Math.max(linkFree[l], e);
                            double occupancy = linkSpec[l].occupancySeconds(bytes);
                            transferStart[i] = ts;
                            linkFree[l] = ts + occupancy;
                            linkBusy[l] += occupancy;
                            linkBytes[l] += bytes;
                            arrival[c] = ts + occupancy + linkSpec[l].latencySeconds();
                        }
                    }
                    i++;
                    remaining--;
                    progress = true;
                }
                next[r] = i;
            }
            if (!progress) {
                throw new DeadlockException(Evaluator.stuck(schedule, rowStart, next, needsInput, sendLink, sendSeq,
                        consumerOfMessage, linkPairs, linkBuffer, kind, stageOf, mbOf, started, arrived, n));
            }
        }

        // ---- gradients: per-stage all-reduce on the rank's collective channel, then the optimizer step ----
        final double[] stageDone = new double[numStages];
        for (int i = 0; i < n; i++) {
            boolean last = split ? kind[i] == W : kind[i] == B;
            if (last && end[i] > stageDone[stageOf[i]]) stageDone[stageOf[i]] = end[i];
        }
        final double[] allReduceStart = new double[numStages];
        final double[] allReduceEnd = new double[numStages];
        final double[] optimizerStart = new double[p];
        final double[] optimizerEnd = new double[p];
        final double[] busy = new double[p];
        double stepTime = 0;
        int v = schedule.virtualStages();
        Integer[] order = new Integer[v];
        for (int r = 0; r < p; r++) {
            for (int c = 0; c < v; c++) order[c] = schedule.stageOf(r, c);
            Arrays.sort(order, (x, y) -> stageDone[x] != stageDone[y] ? Double.compare(stageDone[x], stageDone[y]) : Integer.compare(x, y));
            double channelFree = 0;
            double optimizerSeconds = 0;
            for (int c = 0; c < v; c++) {
                int k = order[c];
                double s = Math.max(channelFree, stageDone[k]);
                allReduceStart[k] = s;
                allReduceEnd[k] = stages.get(k).allReduce().endFrom(s);
                channelFree = allReduceEnd[k];
                optimizerSeconds += stages.get(k).optimizerSeconds();
            }
            optimizerStart[r] = Math.max(rankFree[r], channelFree);
            optimizerEnd[r] = optimizerStart[r] + optimizerSeconds;
            double compute = optimizerSeconds;
            for (int i = rowStart[r]; i < rowStart[r + 1]; i++) compute += duration[i];
            busy[r] = compute;
            stepTime = Math.max(stepTime, optimizerEnd[r]);
        }

        // ---- memory and in-flight micro-batches, walking each rank's order ----
        final long[] peakMemory = new long[p];
        final int[] peakInFlight = new int[p];
        memory(stages, peakMemory, peakInFlight);

        int[][] pairs = linkPairs.toArray(new int[0][]);
        return new Timeline(schedule, stepTime, rowStart, start, end, transferStart, sendLink, consumer, arrival,
                busy, optimizerStart, optimizerEnd, allReduceStart, allReduceEnd, peakMemory, peakInFlight,
                pairs, linkBytes, linkBusy, linkStall);
    }

    /** Static bytes plus the peak of live activation bytes of every rank (order-based; no timing needed). */
    public long[] peakMemory(List<StageCost> stages) {
        long[] peak = new long[p];
        memory(stages, peak, new int[p]);
        return peak;
    }

    /**
     * What is live on {@code rank} when its memory first reaches its peak ({@link #peakMemory}'s walk, which this
     * shares): per model stage, the micro-batches whose stash it holds and those whose recompute bytes it holds.
     * The peak is the rank's static bytes plus {@code Σ stashes[k]·stashBytes(k) + recomputes[k]·recomputeBytes(k)}.
     */
    public PeakLive peakLive(List<StageCost> stages, int rank) {
        if (rank < 0 || rank >= p) throw new IllegalArgumentException("rank must be in [0, " + p + "), got " + rank);
        int[] stashes = new int[numStages];
        int[] recomputes = new int[numStages];
        long[] peakMemory = new long[p];
        walk(stages, rank, rank + 1, peakMemory, new int[p], stashes, recomputes);
        return new PeakLive(peakMemory[rank], stashes, recomputes);
    }

    /**
     * The live micro-batches of {@link #peakLive}.
     *
     * @param peakBytes   the rank's peak memory, as {@link #peakMemory} gives it
     * @param stashes     per model stage, the micro-batches whose stash is live at the peak
     * @param recomputes  per model stage, the micro-batches whose recompute bytes are live at the peak
     */
    public record PeakLive(long peakBytes, int[] stashes, int[] recomputes) {}

    private void memory(List<StageCost> stages, long[] peakMemory, int[] peakInFlight) {
        walk(stages, 0, p, peakMemory, peakInFlight, null, null);
    }

    /**
     * Walks the actions of ranks {@code [from, to)} in order: F allocates its stash at its start, R its recompute bytes,
     * the last backward of the (stage, micro-batch) frees both at its end (StageCost's memory semantics). With
     * non-null {@code stashesAtPeak} and {@code recomputesAtPeak}, records what is live when a rank first reaches its peak.
     */
    private void walk(List<StageCost> stages, int from, int to, long[] peakMemory, int[] peakInFlight,
                      int[] stashesAtPeak, int[] recomputesAtPeak) {
        long[] staticBytes = new long[p];
        long[] stash = new long[numStages];
        long[] recomputeBytes = new long[numStages];
        for (int k = 0; k < numStages; k++) {
            StageCost sc = stages.get(k);
            staticBytes[schedule.rankOf(k)] += sc.staticBytes();
            stash[k] = sc.stashBytes();
            recomputeBytes[k] = sc.recomputeBytes();
        }
        boolean[] recomputed = new boolean[numStages * m];
        boolean breakdown = stashesAtPeak != null;
        int[] liveStashes = breakdown ? new int[numStages] : null;
        int[] liveRecomputes = breakdown ? new int[numStages] : null;
        final byte last = split ? W : B;
        for (int r = from; r < to; r++) {
            long live = 0;
            long peak = 0;
            int inFlight = 0;
            int peakCount = 0;
            for (int i = rowStart[r]; i < rowStart[r + 1]; i++) {
                int k = stageOf[i];
                int key = k * m + mbOf[i];
                byte kd = kind[i];
                if (kd == F) {
                    live += stash[k];
                    inFlight++;
                    if (breakdown) liveStashes[k]++;
                } else if (kd == R) {
                    live += recomputeBytes[k];
                    recomputed[key] = true;
                    if (breakdown) liveRecomputes[k]++;
                }
                if (live > peak) {
                    peak = live;
                    if (breakdown) {
                        System.arraycopy(liveStashes, 0, stashesAtPeak, 0, numStages);
                        System.arraycopy(liveRecomputes, 0, recomputesAtPeak, 0, numStages);
                    }
                }
                if (inFlight > peakCount) peakCount = inFlight;
                if (kd == last) {
                    live -= stash[k] + (recomputed[key] ? recomputeBytes[k] : 0);
                    if (breakdown) {
                        liveStashes[k]--;
                        if (recomputed[key]) liveRecomputes[k]--;
                    }
                    recomputed[key] = false;
                    inFlight--;
                }
            }
            peakMemory[r] = staticBytes[r] + peak;
            peakInFlight[r] = peakCount;
        }
    }
}
