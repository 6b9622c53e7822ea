package dev.pipelab.stage;

import dev.pipelab.schedule.Action;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.StageCost;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * What one rank executes in a step, derived from the schedule value alone (never re-deriving its order):
 * for each of the rank's actions, in order, its duration, where its input comes from (rank and sequence
 * number on that link), where its output goes (rank, consumer position, sequence number, bytes) and
 * whether it frees the micro-batch's memory. Invariant: sequence numbers follow each sender rank's action
 * order per destination rank, exactly as the evaluator numbers messages on its FIFO links.
 */
public final class StageProgram {

    /** No rank. */
    public static final int NONE = -1;

    private final Schedule schedule;
    private final List<StageCost> costs;
    private final int rank;
    private final List<Action> actions;
    private final double[] duration;
    private final boolean[] needsInput;
    private final int[] inputRank;
    private final int[] inputSeq;
    private final int[] outRank;
    private final int[] outPosition;
    private final int[] outSeq;
    private final long[] outBytes;
    private final boolean[] lastBackward;
    /** For outgoing remote messages: the action (text) consuming message seq on the link to outRank. */
    private final String[][] consumerText;
    private final List<Integer> outgoingRanks;
    private final List<Integer> incomingRanks;

    private StageProgram(Schedule schedule, List<StageCost> costs, int rank, List<Action> actions, double[] duration,
                         boolean[] needsInput, int[] inputRank, int[] inputSeq, int[] outRank, int[] outPosition,
                         int[] outSeq, long[] outBytes, boolean[] lastBackward, String[][] consumerText,
                         List<Integer> outgoingRanks, List<Integer> incomingRanks) {
        this.schedule = schedule;
        this.costs = costs;
        this.rank = rank;
        this.actions = actions;
        this.duration = duration;
        this.needsInput = needsInput;
        this.inputRank = inputRank;
        this.inputSeq = inputSeq;
        this.outRank = outRank;
        this.outPosition = outPosition;
        this.outSeq = outSeq;
        this.outBytes = outBytes;
        this.lastBackward = lastBackward;
        this.consumerText = consumerText;
        this.outgoingRanks = outgoingRanks;
        this.incomingRanks = incomingRanks;
    }

    /** The program of every rank of the schedule, indexed by rank. */
    public static List<StageProgram> all(Schedule schedule, List<StageCost> costs) {
        final int p = schedule.ranks();
        final int numStages = schedule.stages();
        final int m = schedule.microBatches();
        final boolean split = schedule.splitBackward();
        if (costs.size() != numStages) throw new IllegalArgumentException("expected " + numStages + " stage costs, got " + costs.size());
        // (stage, mb) -> (rank, position) of its F and B
        int[] fPos = new int[numStages * m];
        int[] bPos = new int[numStages * m];
        Arrays.fill(fPos, -1);
        Arrays.fill(bPos, -1);
        for (int r = 0; r < p; r++) {
            List<Action> row = schedule.actions(r);
            for (int j = 0; j < row.size(); j++) {
                Action a = row.get(j);
                if (a.stage() >= numStages || a.microBatch() >= m || schedule.rankOf(a.stage()) != r) {
                    throw new IllegalArgumentException("action " + a + " on rank " + r + " does not fit the schedule (validate it first)");
                }
                int key = a.stage() * m + a.microBatch();
                if (a.kind() == Action.Kind.F) fPos[key] = j;
                if (a.kind() == Action.Kind.B) bPos[key] = j;
            }
        }
        int[][] outRank = new int[p][];
        int[][] outPosition = new int[p][];
        int[][] outSeq = new int[p][];
        int[][] inputRank = new int[p][];
        int[][] inputSeq = new int[p][];
        List<List<List<String>>> consumers = new ArrayList<>(); // [sender][dst] -> consumer text by seq
        for (int r = 0; r < p; r++) {
            int n = schedule.actions(r).size();
            outRank[r] = filled(n, NONE);
            outPosition[r] = filled(n, NONE);
            outSeq[r] = filled(n, NONE);
            inputRank[r] = filled(n, NONE);
            inputSeq[r] = filled(n, NONE);
            List<List<String>> perDst = new ArrayList<>(p);
            for (int q = 0; q < p; q++) perDst.add(new ArrayList<>());
            consumers.add(perDst);
        }
        for (int r = 0; r < p; r++) {
            List<Action> row = schedule.actions(r);
            int[] count = new int[p];
            for (int j = 0; j < row.size(); j++) {
                Action a = row.get(j);
                int k = a.stage();
                int mb = a.microBatch();
                int target = -1;
                int targetStage = -1;
                if (a.kind() == Action.Kind.F && k + 1 < numStages) {
                    targetStage = k + 1;
                    target = fPos[targetStage * m + mb];
                } else if (a.kind() == Action.Kind.B && k > 0) {
                    targetStage = k - 1;
                    target = bPos[targetStage * m + mb];
                }
                if (targetStage >= 0 && target < 0) {
                    throw new IllegalArgumentException("action " + a + " sends to a stage that never runs micro-batch " + mb
                            + " (validate the schedule first)");
                }
                if (target < 0) continue;
                int dst = schedule.rankOf(targetStage);
                outRank[r][j] = dst;
                outPosition[r][j] = target;
                inputRank[dst][target] = r;
                if (dst != r) {
                    int seq = count[dst]++;
                    outSeq[r][j] = seq;
                    inputSeq[dst][target] = seq;
                    consumers.get(r).get(dst).add(schedule.actions(dst).get(target).toString());
                }
            }
        }
        List<StageProgram> out = new ArrayList<>(p);
        for (int r = 0; r < p; r++) {
            List<Action> row = schedule.actions(r);
            int n = row.size();
            double[] duration = new double[n];
            boolean[] needs = new boolean[n];
            long[] bytes = new long[n];
            boolean[] last = new boolean[n];
            for (int j = 0; j < n; j++) {
                Action a = row.get(j);
                StageCost sc = costs.get(a.stage());
                duration[j] = sc.seconds(a.kind(), split);
                needs[j] = (a.kind() == Action.Kind.F && a.stage() > 0) || (a.kind() == Action.Kind.B && a.stage() + 1 < numStages);
                if (needs[j] && inputRank[r][j] == NONE) {
                    throw new IllegalArgumentException("action " + a + " on rank " + r + " never gets its input (validate the schedule first)");
                }
                bytes[j] = a.kind() == Action.Kind.F ? sc.sendForwardBytes() : sc.sendBackwardBytes();
                last[j] = split ? a.kind() == Action.Kind.W : a.kind() == Action.Kind.B;
            }
            String[][] ct = new String[p][];
            TreeSet<Integer> outgoing = new TreeSet<>();
            for (int q = 0; q < p; q++) {
                ct[q] = consumers.get(r).get(q).toArray(new String[0]);
                if (ct[q].length > 0) outgoing.add(q);
            }
            TreeSet<Integer> incoming = new TreeSet<>();
            for (int q = 0; q < p; q++) if (!consumers.get(q).get(r).isEmpty()) incoming.add(q);
            out.add(new StageProgram(schedule, List.copyOf(costs), r, row, duration, needs, inputRank[r], inputSeq[r], outRank[r],
                    outPosition[r], outSeq[r], bytes, last, ct, List.copyOf(outgoing), List.copyOf(incoming)));
        }
        return List.copyOf(out);
    }

    /** The program of one rank. */
    public static StageProgram of(Schedule schedule, List<StageCost> costs, int rank) {
        return all(schedule, costs).get(rank);
    }

    private static int[] filled(int n, int value) {
        int[] a = new int[n];
        Arrays.fill(a, value);
        return a;
    }

    public Schedule schedule() { return schedule; }

    public List<StageCost> costs() { return costs; }

    public int rank() { return rank; }

    public int size() { return actions.size(); }

    public Action action(int position) { return actions.get(position); }

    public double duration(int position) { return duration[position]; }

    /** Whether the action needs a message (activation or gradient) from another model stage. */
    public boolean needsInput(int position) { return needsInput[position]; }

    /** Rank that produces the input, {@link #NONE} when none. */
    public int inputRank(int position) { return inputRank[position]; }

    /** Sequence number of the input on the link from {@link #inputRank}, {@link #NONE} when local or none. */
    public int inputSeq(int position) { return inputSeq[position]; }

    /** Whether the input comes over a link (another rank). */
    public boolean remoteInput(int position) { return needsInput[position] && inputRank[position] != rank; }

    /** Rank receiving this action's output, {@link #NONE} when it sends nothing. */
    public int outRank(int position) { return outRank[position]; }

    /** Position of the consumer in {@link #outRank}'s action list. */
    public int outPosition(int position) { return outPosition[position]; }

    /** Sequence number on the link to {@link #outRank}, {@link #NONE} when local or none. */
    public int outSeq(int position) { return outSeq[position]; }

    public boolean remoteOutput(int position) { return outRank[position] != NONE && outRank[position] != rank; }

    /** Bytes of the message this action sends. */
    public long outBytes(int position) { return outBytes[position]; }

    /** {@code activation} for a forward's output, {@code gradient} for a backward's. */
    public String outKind(int position) { return actions.get(position).kind() == Action.Kind.F ? "activation" : "gradient"; }

    /** Whether the action is the last backward of its (stage, micro-batch): B, or W when the backward is split. */
    public boolean lastBackward(int position) { return lastBackward[position]; }

    /** The action (text form) on {@code toRank} that consumes message {@code seq} of the link this rank -> toRank. */
    public String consumerOf(int toRank, int seq) { return consumerText[toRank][seq]; }

    /** Number of messages this rank sends to {@code toRank} per step. */
    public int messagesTo(int toRank) { return consumerText[toRank].length; }

    /** Ranks this rank sends messages to, ascending. */
    public List<Integer> outgoingRanks() { return outgoingRanks; }

    /** Ranks this rank receives messages from, ascending. */
    public List<Integer> incomingRanks() { return incomingRanks; }

    /** Model stages on this rank in chunk order: {@code c * p + rank}. */
    public int stageOfChunk(int chunk) { return chunk * schedule.ranks() + rank; }

    /** Chunk index of a model stage on this rank. */
    public int chunkOf(int stage) { return stage / schedule.ranks(); }

    public int chunks() { return schedule.virtualStages(); }

    /** Static bytes of the rank: the sum over its model stages. */
    public long staticBytes() {
        long s = 0;
        for (int c = 0; c < chunks(); c++) s += costs.get(stageOfChunk(c)).staticBytes();
        return s;
    }
}
