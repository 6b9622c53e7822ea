package dev.pipelab.schedule;

import dev.pipelab.model.LinkSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The analytic evaluator: list-schedules every action of one training step and returns its exact
 * {@link Timeline}. Invariant: each rank runs its actions strictly in the schedule's order, and an action
 * starts at {@code max(rank free, input arrived, credit granted)} — the same rule the actor runtime applies,
 * so a fault-free virtual-time run must reproduce this timeline bit for bit.
 *
 * <p>The rules, in the order they apply (DESIGN.md §2–§3):
 * <ul>
 *   <li><b>Inputs.</b> F of stage k &gt; 0 needs the activation of F(k-1) of the same micro-batch; B of stage
 *       k &lt; S-1 needs the input gradient of B(k+1). W and R need only their own rank's earlier actions.
 *       A message between stages on the same rank arrives when its producer ends.</li>
 *   <li><b>Links.</b> Each ordered rank pair is a FIFO link carrying messages in the sender's action order. A
 *       transfer starts at {@code max(link free, producer end)}, occupies the link for
 *       {@code bytes / bandwidth} and arrives {@code latency} after that.</li>
 *   <li><b>Credit.</b> A link's receiver buffers at most {@code linkBuffer} messages: the action producing
 *       message n on a link may start only once the consumer of message n - linkBuffer on that link has
 *       started (taken its message out of the buffer). Time lost waiting only for credit is the link's stall.</li>
 *   <li><b>Gradients.</b> When a stage's last backward action ends, its data-parallel all-reduce runs on the
 *       rank's collective channel (FIFO, in order of completion; it overlaps the rank's remaining compute).
 *       The rank's optimizer step starts when the rank is idle and its all-reduces are done.</li>
 * </ul>
 * A schedule that cannot make progress (no runnable action on any rank) raises {@link DeadlockException}
 * naming each stuck action and what it waits for. The schedule must be structurally valid
 * ({@link ScheduleValidator}); the evaluator does not repeat those checks beyond what it needs.
 */
public final class Evaluator {

    /** Receiver buffer size meaning "unbounded". */
    public static final int UNBOUNDED = Integer.MAX_VALUE;

    private static final byte F = 0, B = 1, W = 2, R = 3;

    private Evaluator() {}

    /** Evaluates with unbounded link buffers. */
    public static Timeline evaluate(Schedule schedule, List<StageCost> stages, Network network) {
        return evaluate(schedule, stages, network, UNBOUNDED);
    }

    /**
     * Evaluates one step.
     *
     * @param stages      one cost per model stage ({@code schedule.stages()} entries)
     * @param linkBuffer  messages a link's receiver can hold, ≥ 1, or {@link #UNBOUNDED}
     */
    public static Timeline evaluate(Schedule schedule, List<StageCost> stages, Network network, int linkBuffer) {
        final int p = schedule.ranks();
        final int numStages = schedule.stages();
        final int m = schedule.microBatches();
        final boolean split = schedule.splitBackward();
        if (stages.size() != numStages) {
            throw new IllegalArgumentException("expected " + numStages + " stage costs, got " + stages.size());
        }
        if (linkBuffer < 1) throw new IllegalArgumentException("linkBuffer must be >= 1, got " + linkBuffer);

        // ---- flatten the schedule: action i of rank r has global index rowStart[r] + position ----
        final int n = schedule.size();
        final int[] rowStart = new int[p + 1];
        final byte[] kind = new byte[n];
        final int[] stageOf = new int[n];
        final int[] mbOf = new int[n];
        final double[] duration = new double[n];
        final double[][] durationOf = new double[numStages][4];
        for (int k = 0; k < numStages; k++) {
            for (Action.Kind kk : Action.Kind.values()) durationOf[k][kk.ordinal()] = stages.get(k).seconds(kk, split);
        }
        final int[] fIndex = new int[numStages * m];
        final int[] bIndex = new int[numStages * m];
        Arrays.fill(fIndex, -1);
        Arrays.fill(bIndex, -1);
        int idx = 0;
        for (int r = 0; r < p; r++) {
            rowStart[r] = idx;
            for (Action a : schedule.actions(r)) {
                int k = a.stage();
                int mb = a.microBatch();
                if (k >= numStages || mb >= m || schedule.rankOf(k) != r) {
                    throw new IllegalArgumentException("action " + a + " on rank " + r + " does not fit the schedule (validate it first)");
                }
                int ord = a.kind().ordinal();
                kind[idx] = (byte) ord;
                stageOf[idx] = k;
                mbOf[idx] = mb;
                duration[idx] = durationOf[k][ord];
                if (a.kind() == Action.Kind.F) fIndex[k * m + mb] = idx;
                if (a.kind() == Action.Kind.B) bIndex[k * m + mb] = idx;
                idx++;
            }
        }
        rowStart[p] = n;

        // ---- messages: who consumes each action's output, on which link, with which sequence number ----
        final int[] linkId = new int[p * p];
        Arrays.fill(linkId, -1);
        final List<int[]> linkPairs = new ArrayList<>();
        final int[] consumer = new int[n];
        final int[] sendLink = new int[n];
        final int[] sendSeq = new int[n];
        final boolean[] needsInput = new boolean[n];
        Arrays.fill(consumer, -1);
        Arrays.fill(sendLink, -1);
        int[] linkCount = new int[Math.max(1, 2 * p)];
        for (int i = 0; i < n; i++) {
            int k = stageOf[i];
            int mb = mbOf[i];
            int target = -1;
            if (kind[i] == F && k + 1 < numStages) target = fIndex[(k + 1) * m + mb];
            else if (kind[i] == B && k > 0) target = bIndex[(k - 1) * m + mb];
            if (kind[i] == F && k > 0) needsInput[i] = true;
            if (kind[i] == B && k + 1 < numStages) needsInput[i] = true;
            if (target < 0) {
                boolean expected = (kind[i] == F && k + 1 < numStages) || (kind[i] == B && k > 0);
                if (expected) {
                    throw new IllegalArgumentException("action " + describe(kind[i], k, mb)
                            + " sends to a stage that never runs micro-batch " + mb + " (validate the schedule first)");
                }
                continue;
            }
            consumer[i] = target;
        }
        // sequence numbers follow each sender rank's order, which is the link's FIFO order
        for (int r = 0; r < p; r++) {
            for (int i = rowStart[r]; i < rowStart[r + 1]; i++) {
                if (consumer[i] < 0) continue;
                int dst = schedule.rankOf(stageOf[consumer[i]]);
                if (dst == r) continue;
                int key = r * p + dst;
                if (linkId[key] < 0) {
                    linkId[key] = linkPairs.size();
                    linkPairs.add(new int[] {r, dst});
                    if (linkPairs.size() > linkCount.length) linkCount = Arrays.copyOf(linkCount, linkCount.length * 2);
                }
                int l = linkId[key];
                sendLink[i] = l;
                sendSeq[i] = linkCount[l]++;
            }
        }
        final int links = linkPairs.size();
        final int[][] consumerOfMessage = new int[links][];
        for (int l = 0; l < links; l++) consumerOfMessage[l] = new int[linkCount[l]];
        for (int i = 0; i < n; i++) {
            if (sendLink[i] >= 0) consumerOfMessage[sendLink[i]][sendSeq[i]] = consumer[i];
        }
        final LinkSpec[] linkSpec = new LinkSpec[links];
        for (int l = 0; l < links; l++) linkSpec[l] = network.link(linkPairs.get(l)[0], linkPairs.get(l)[1]);

        // ---- list scheduling ----
        final double[] start = new double[n];
        final double[] end = new double[n];
        final double[] arrival = new double[n];
        Arrays.fill(start, Double.NaN);
        Arrays.fill(arrival, Double.NaN);
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
                        double in = arrival[i];
                        if (in != in) break; // NaN: input not produced yet
                        if (in > ready) ready = in;
                    }
                    int l = sendLink[i];
                    if (l >= 0 && linkBuffer != UNBOUNDED && sendSeq[i] >= linkBuffer) {
                        double credit = start[consumerOfMessage[l][sendSeq[i] - linkBuffer]];
                        if (credit != credit) break; // the buffer slot is not free yet
                        if (credit > ready) {
                            linkStall[l] += credit - ready;
                            ready = credit;
                        }
                    }
                    start[i] = ready;
                    double e = ready + duration[i];
                    end[i] = e;
                    rankFree[r] = e;
                    int c = consumer[i];
                    if (c >= 0) {
                        if (l < 0) {
                            arrival[c] = e;
                        } else {
                            StageCost sc = stages.get(stageOf[i]);
                            long bytes = kind[i] == F ? sc.sendForwardBytes() : sc.sendBackwardBytes();
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
                throw new DeadlockException(stuck(schedule, rowStart, next, needsInput, sendLink, sendSeq,
                        consumerOfMessage, linkPairs, linkBuffer, kind, stageOf, mbOf, start, n));
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
            for (int c = 0; c < v; c++) order[c] = c * p + r;
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
        memory(schedule, stages, peakMemory, peakInFlight);

        int[][] pairs = linkPairs.toArray(new int[0][]);
        return new Timeline(schedule, stepTime, rowStart, start, end, transferStart, sendLink, arrivalTimes(consumer, arrival, n),
                busy, optimizerStart, optimizerEnd, allReduceStart, allReduceEnd, peakMemory, peakInFlight,
                pairs, linkBytes, linkBusy, linkStall);
    }

    /**
     * Peak memory (static bytes plus the peak of live activation bytes) of every rank. It depends only on each
     * rank's order of actions, not on timing, so it is exact without list scheduling: {@link Search}-style
     * callers use it to reject plans that cannot fit before evaluating them.
     */
    public static long[] peakMemory(Schedule schedule, List<StageCost> stages) {
        long[] peak = new long[schedule.ranks()];
        memory(schedule, stages, peak, new int[schedule.ranks()]);
        return peak;
    }

    /**
     * Walks each rank's actions in order: F allocates its stash at its start, R its recompute bytes, the last
     * backward of the (stage, micro-batch) frees both at its end (StageCost's memory semantics).
     */
    private static void memory(Schedule schedule, List<StageCost> stages, long[] peakMemory, int[] peakInFlight) {
        int p = schedule.ranks();
        int m = schedule.microBatches();
        boolean split = schedule.splitBackward();
        long[] staticBytes = new long[p];
        boolean[] recomputed = new boolean[schedule.stages() * m];
        for (int k = 0; k < schedule.stages(); k++) staticBytes[schedule.rankOf(k)] += stages.get(k).staticBytes();
        for (int r = 0; r < p; r++) {
            long live = 0;
            long peak = 0;
            int inFlight = 0;
            int peakCount = 0;
            for (Action a : schedule.actions(r)) {
                StageCost sc = stages.get(a.stage());
                int key = a.stage() * m + a.microBatch();
                switch (a.kind()) {
                    case F -> {
                        live += sc.stashBytes();
                        inFlight++;
                    }
                    case R -> {
                        live += sc.recomputeBytes();
                        recomputed[key] = true;
                    }
                    default -> { }
                }
                peak = Math.max(peak, live);
                peakCount = Math.max(peakCount, inFlight);
                boolean last = split ? a.kind() == Action.Kind.W : a.kind() == Action.Kind.B;
                if (last) {
                    live -= sc.stashBytes() + (recomputed[key] ? sc.recomputeBytes() : 0);
                    recomputed[key] = false;
                    inFlight--;
                }
            }
            peakMemory[r] = staticBytes[r] + peak;
            peakInFlight[r] = peakCount;
        }
    }

    /** arrival[i] is indexed by consumer; the timeline wants it indexed by producer. */
    private static double[] arrivalTimes(int[] consumer, double[] arrivalByConsumer, int n) {
        double[] out = new double[n];
        Arrays.fill(out, Double.NaN);
        for (int i = 0; i < n; i++) if (consumer[i] >= 0) out[i] = arrivalByConsumer[consumer[i]];
        return out;
    }

    private static List<String> stuck(Schedule schedule, int[] rowStart, int[] next, boolean[] needsInput, int[] sendLink,
                                      int[] sendSeq, int[][] consumerOfMessage, List<int[]> linkPairs, int linkBuffer,
                                      byte[] kind, int[] stageOf, int[] mbOf, double[] start, int n) {
        List<String> out = new ArrayList<>();
        for (int r = 0; r < schedule.ranks(); r++) {
            int i = next[r];
            if (i >= rowStart[r + 1]) continue;
            String what = describe(kind[i], stageOf[i], mbOf[i]);
            String why;
            if (needsInput[i]) {
                why = kind[i] == F
                        ? "waits for the activation of " + describe(F, stageOf[i] - 1, mbOf[i])
                        : "waits for the gradient of " + describe(B, stageOf[i] + 1, mbOf[i]);
                int l = sendLink[i];
                if (l >= 0 && linkBuffer != UNBOUNDED && sendSeq[i] >= linkBuffer) {
                    int c = consumerOfMessage[l][sendSeq[i] - linkBuffer];
                    if (start[c] != start[c]) why += " (and for credit)";
                }
            } else {
                int l = sendLink[i];
                int c = consumerOfMessage[l][sendSeq[i] - linkBuffer];
                int[] pair = linkPairs.get(l);
                why = "waits for credit on link " + pair[0] + "->" + pair[1] + " (buffer " + linkBuffer
                        + " full until " + describe(kind[c], stageOf[c], mbOf[c]) + " starts)";
            }
            out.add("rank " + r + " action #" + (i - rowStart[r]) + " " + what + ": " + why);
        }
        return out;
    }

    static String describe(byte kind, int stage, int mb) {
        return Integer.toString(stage) + Action.Kind.values()[kind] + mb;
    }
}
