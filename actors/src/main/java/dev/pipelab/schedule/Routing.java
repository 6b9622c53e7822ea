package dev.pipelab.schedule;

import java.util.Arrays;

/**
 * Where every action's output goes in a schedule, derived from the schedule value alone: the consumer (rank and
 * position in that rank's order), and, when the consumer sits on another rank, the message's sequence number on
 * the link sender -> consumer rank. Invariant: sequence numbers on a link follow the sender's action order, which
 * is the link's FIFO order; the {@link Evaluator} and the stage actors both route with this one pass, so they
 * cannot disagree on who waits for which message.
 *
 * <p>The rule: F of stage k sends its activation to F of stage k + 1, B of stage k sends its input gradient to B
 * of stage k - 1, of the same micro-batch; W and R send nothing.
 */
public final class Routing {

    /** No rank, position or sequence number. */
    public static final int NONE = -1;

    private final int[][] outRank;
    private final int[][] outPosition;
    private final int[][] outSeq;
    private final int[][] inputRank;
    private final int[][] inputSeq;
    /** [sender][receiver] -> the consumer's position on the receiver, by sequence number. */
    private final int[][][] consumers;

    private Routing(int[][] outRank, int[][] outPosition, int[][] outSeq, int[][] inputRank, int[][] inputSeq,
                    int[][][] consumers) {
        this.outRank = outRank;
        this.outPosition = outPosition;
        this.outSeq = outSeq;
        this.inputRank = inputRank;
        this.inputSeq = inputSeq;
        this.consumers = consumers;
    }

    /**
     * Routes every message of the schedule.
     *
     * @throws IllegalArgumentException when an action does not fit the schedule (stage, micro-batch or rank out of
     *         range) or sends to a stage that never runs its micro-batch; the schedule was not validated
     */
    public static Routing of(Schedule schedule) {
        final int p = schedule.ranks();
        final int numStages = schedule.stages();
        final int m = schedule.microBatches();
        // (stage, mb) -> position of its F and B on the stage's rank
        int[] fPos = new int[numStages * m];
        int[] bPos = new int[numStages * m];
        Arrays.fill(fPos, NONE);
        Arrays.fill(bPos, NONE);
        for (int r = 0; r < p; r++) {
            int j = 0;
            for (Action a : schedule.actions(r)) {
                if (a.stage() >= numStages || a.microBatch() >= m || schedule.rankOf(a.stage()) != r) {
                    throw new IllegalArgumentException("action " + a + " on rank " + r + " does not fit the schedule (validate it first)");
                }
                int key = a.stage() * m + a.microBatch();
                if (a.kind() == Action.Kind.F) fPos[key] = j;
                if (a.kind() == Action.Kind.B) bPos[key] = j;
                j++;
            }
        }
        int[][] outRank = new int[p][];
        int[][] outPosition = new int[p][];
        int[][] outSeq = new int[p][];
        int[][] inputRank = new int[p][];
        int[][] inputSeq = new int[p][];
        for (int r = 0; r < p; r++) {
            int n = schedule.actions(r).size();
            outRank[r] = filled(n);
            outPosition[r] = filled(n);
            outSeq[r] = filled(n);
            inputRank[r] = filled(n);
            inputSeq[r] = filled(n);
        }
        int[][][] consumers = new int[p][p][];
        int[] sent = new int[p];
        for (int r = 0; r < p; r++) {
            Arrays.fill(sent, 0);
            int j = 0;
            for (Action a : schedule.actions(r)) {
                int k = a.stage();
                int mb = a.microBatch();
                int targetStage = NONE;
                int target = NONE;
                if (a.kind() == Action.Kind.F && k + 1 < numStages) {
                    targetStage = k + 1;
                    target = fPos[targetStage * m + mb];
                } else if (a.kind() == Action.Kind.B && k > 0) {
                    targetStage = k - 1;
                    target = bPos[targetStage * m + mb];
                }
                if (targetStage != NONE && target == NONE) {
                    throw new IllegalArgumentException("action " + a + " sends to a stage that never runs micro-batch " + mb
                            + " (validate the schedule first)");
                }
                if (target != NONE) {
                    int dst = schedule.rankOf(targetStage);
                    outRank[r][j] = dst;
                    outPosition[r][j] = target;
                    inputRank[dst][target] = r;
                    if (dst != r) {
                        int seq = sent[dst]++;
                        outSeq[r][j] = seq;
                        inputSeq[dst][target] = seq;
                    }
                }
                j++;
            }
            for (int q = 0; q < p; q++) consumers[r][q] = new int[sent[q]];
            for (int i = 0; i < outSeq[r].length; i++) {
                if (outSeq[r][i] != NONE) consumers[r][outRank[r][i]][outSeq[r][i]] = outPosition[r][i];
            }
        }
        return new Routing(outRank, outPosition, outSeq, inputRank, inputSeq, consumers);
    }

    /**
     * Whether the action waits for a message from another model stage: F of every stage but the first, B of every
     * stage but the last.
     */
    public static boolean needsInput(Action a, int stages) {
        return (a.kind() == Action.Kind.F && a.stage() > 0) || (a.kind() == Action.Kind.B && a.stage() + 1 < stages);
    }

    /** Rank receiving the output of action {@code position} of {@code rank}, {@link #NONE} when it sends nothing. */
    public int outRank(int rank, int position) { return outRank[rank][position]; }

    /** Position of that output's consumer in {@link #outRank}'s order, {@link #NONE} when it sends nothing. */
    public int outPosition(int rank, int position) { return outPosition[rank][position]; }

    /** Sequence number of the output on the link to {@link #outRank}, {@link #NONE} when local or none. */
    public int outSeq(int rank, int position) { return outSeq[rank][position]; }

    /** Rank producing the input of action {@code position} of {@code rank}, {@link #NONE} when none. */
    public int inputRank(int rank, int position) { return inputRank[rank][position]; }

    /** Sequence number of that input on the link from {@link #inputRank}, {@link #NONE} when local or none. */
    public int inputSeq(int rank, int position) { return inputSeq[rank][position]; }

    /** Number of messages on the link {@code from} -> {@code to} per step (0 for {@code from == to}). */
    public int messages(int from, int to) { return consumers[from][to].length; }

    /** Position, in {@code to}'s order, of the action consuming message {@code seq} of the link {@code from} -> {@code to}. */
    public int consumer(int from, int to, int seq) { return consumers[from][to][seq]; }

    private static int[] filled(int n) {
        int[] a = new int[n];
        Arrays.fill(a, NONE);
        return a;
    }
}
