package dev.pipelab.stage;

import dev.pipelab.monitoring.TransferKind;
import dev.pipelab.protocol.CborSerializable;
import dev.pipelab.schedule.Action;
import dev.pipelab.schedule.Routing;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.StageCost;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntUnaryOperator;
import java.util.stream.IntStream;

/**
 * What one rank executes in a step, derived from the schedule value alone (never re-deriving its order):
 * for each of the rank's actions, in order, its duration, where its input comes from (rank and sequence
 * number on that link), where its output goes (rank, consumer position, sequence number, bytes) and
 * whether it frees the micro-batch's memory. Invariant: the routing is {@link Routing}'s, the same pass the
 * evaluator uses, so sequence numbers follow each sender rank's action order per destination rank.
 *
 * <p>Its {@link Data} holds only this rank's row, its stages' costs and its routing, so that what travels to
 * the node hosting the stage stays small (the whole schedule of a deep pipeline exceeds Artery's 256 KiB frame).
 */
public final class StageProgram {

    /** No rank. */
    public static final int NONE = Routing.NONE;

    /**
     * The serializable form: the rank's actions in order, its model stages in chunk order (the schedule's
     * placement) and their costs, and for every
     * action where its input comes from and where its output goes; {@code consumers.get(q)} names, by sequence
     * number, the actions of rank q that consume this rank's messages.
     */
    public record Data(int ranks, int virtualStages, int microBatches, boolean splitBackward, int rank, List<Action> actions,
                       List<Integer> stages, List<StageCost> chunkCosts, List<Integer> inputRank, List<Integer> inputSeq, List<Integer> outRank,
                       List<Integer> outPosition, List<Integer> outSeq, List<List<String>> consumers) implements CborSerializable {
        public Data {
            actions = List.copyOf(actions);
            stages = List.copyOf(stages);
            chunkCosts = List.copyOf(chunkCosts);
            inputRank = List.copyOf(inputRank);
            inputSeq = List.copyOf(inputSeq);
            outRank = List.copyOf(outRank);
            outPosition = List.copyOf(outPosition);
            outSeq = List.copyOf(outSeq);
            List<List<String>> c = new ArrayList<>(consumers.size());
            for (List<String> l : consumers) c.add(List.copyOf(l));
            consumers = List.copyOf(c);
            if (chunkCosts.size() != virtualStages || stages.size() != virtualStages) {
                throw new IllegalArgumentException("expected " + virtualStages + " stages and chunk costs, got "
                        + stages.size() + " and " + chunkCosts.size());
            }
        }
    }

    private final Data data;
    private final double[] duration;
    private final boolean[] needsInput;
    private final long[] outBytes;
    private final boolean[] lastBackward;
    private final List<Integer> outgoingRanks;
    private final int[] chunkStage;

    private StageProgram(Data data) {
        this.data = data;
        this.chunkStage = data.stages().stream().mapToInt(Integer::intValue).toArray();
        int n = data.actions().size();
        int numStages = data.ranks() * data.virtualStages();
        duration = new double[n];
        needsInput = new boolean[n];
        outBytes = new long[n];
        lastBackward = new boolean[n];
        for (int j = 0; j < n; j++) {
            Action a = data.actions().get(j);
            StageCost sc = cost(a.stage());
            duration[j] = sc.seconds(a.kind(), data.splitBackward());
            needsInput[j] = Routing.needsInput(a, numStages);
            if (needsInput[j] && data.inputRank().get(j) == NONE) {
                throw new IllegalArgumentException("action " + a + " on rank " + data.rank() + " never gets its input (validate the schedule first)");
            }
            outBytes[j] = a.kind() == Action.Kind.F ? sc.sendForwardBytes() : sc.sendBackwardBytes();
            lastBackward[j] = data.splitBackward() ? a.kind() == Action.Kind.W : a.kind() == Action.Kind.B;
        }
        List<Integer> out = new ArrayList<>();
        for (int q = 0; q < data.ranks(); q++) if (!data.consumers().get(q).isEmpty()) out.add(q);
        outgoingRanks = List.copyOf(out);
    }

    /** The program a {@link Data} describes. */
    public static StageProgram of(Data data) {
        return new StageProgram(data);
    }

    /** The program of every rank of the schedule, indexed by rank. */
    public static List<StageProgram> all(Schedule schedule, List<StageCost> costs) {
        final int p = schedule.ranks();
        final int numStages = schedule.stages();
        final int m = schedule.microBatches();
        if (costs.size() != numStages) throw new IllegalArgumentException("expected " + numStages + " stage costs, got " + costs.size());
        Routing routing = Routing.of(schedule);
        List<StageProgram> out = new ArrayList<>(p);
        for (int r = 0; r < p; r++) {
            final int rank = r;
            int n = schedule.actions(r).size();
            List<Integer> stages = new ArrayList<>();
            List<StageCost> chunkCosts = new ArrayList<>();
            for (int c = 0; c < schedule.virtualStages(); c++) {
                stages.add(schedule.stageOf(r, c));
                chunkCosts.add(costs.get(schedule.stageOf(r, c)));
            }
            List<List<String>> consumers = new ArrayList<>(p);
            for (int q = 0; q < p; q++) {
                List<String> texts = new ArrayList<>();
                for (int seq = 0; seq < routing.messages(r, q); seq++) texts.add(schedule.actions(q).get(routing.consumer(r, q, seq)).toString());
                consumers.add(texts);
            }
            out.add(new StageProgram(new Data(p, schedule.virtualStages(), m, schedule.splitBackward(), r, schedule.actions(r),
                    stages, chunkCosts, column(n, j -> routing.inputRank(rank, j)), column(n, j -> routing.inputSeq(rank, j)),
                    column(n, j -> routing.outRank(rank, j)), column(n, j -> routing.outPosition(rank, j)),
                    column(n, j -> routing.outSeq(rank, j)), consumers)));
        }
        return List.copyOf(out);
    }

    /** The program of one rank. */
    public static StageProgram of(Schedule schedule, List<StageCost> costs, int rank) {
        return all(schedule, costs).get(rank);
    }

    private static List<Integer> column(int n, IntUnaryOperator valueAt) {
        return IntStream.range(0, n).map(valueAt).boxed().toList();
    }

    /** The serializable form. */
    public Data data() { return data; }

    public int ranks() { return data.ranks(); }

    public int microBatches() { return data.microBatches(); }

    public int rank() { return data.rank(); }

    public int size() { return data.actions().size(); }

    public Action action(int position) { return data.actions().get(position); }

    /** Cost of model stage {@code stage}, which must live on this rank. */
    public StageCost cost(int stage) {
        int c = data.stages().indexOf(stage);
        if (c < 0) throw new IllegalArgumentException("stage " + stage + " is not on rank " + data.rank());
        return data.chunkCosts().get(c);
    }

    public double duration(int position) { return duration[position]; }

    /** Whether the action needs a message (activation or gradient) from another model stage. */
    public boolean needsInput(int position) { return needsInput[position]; }

    /** Rank that produces the input, {@link #NONE} when none. */
    public int inputRank(int position) { return data.inputRank().get(position); }

    /** Sequence number of the input on the link from {@link #inputRank}, {@link #NONE} when local or none. */
    public int inputSeq(int position) { return data.inputSeq().get(position); }

    /** Whether the input comes over a link (another rank). */
    public boolean remoteInput(int position) { return needsInput[position] && inputRank(position) != data.rank(); }

    /** Rank receiving this action's output, {@link #NONE} when it sends nothing. */
    public int outRank(int position) { return data.outRank().get(position); }

    /** Position of the consumer in {@link #outRank}'s action list. */
    public int outPosition(int position) { return data.outPosition().get(position); }

    /** Sequence number on the link to {@link #outRank}, {@link #NONE} when local or none. */
    public int outSeq(int position) { return data.outSeq().get(position); }

    public boolean remoteOutput(int position) { return outRank(position) != NONE && outRank(position) != data.rank(); }

    /** Bytes of the message this action sends. */
    public long outBytes(int position) { return outBytes[position]; }

    /** {@link TransferKind#ACTIVATION} for a forward's output, {@link TransferKind#GRADIENT} for a backward's. */
    public TransferKind outKind(int position) {
        return action(position).kind() == Action.Kind.F ? TransferKind.ACTIVATION : TransferKind.GRADIENT;
    }

    /** Whether the action is the last backward of its (stage, micro-batch): B, or W when the backward is split. */
    public boolean lastBackward(int position) { return lastBackward[position]; }

    /** The action (text form) on {@code toRank} that consumes message {@code seq} of the link this rank -> toRank. */
    public String consumerOf(int toRank, int seq) { return data.consumers().get(toRank).get(seq); }

    /** Number of messages this rank sends to {@code toRank} per step. */
    public int messagesTo(int toRank) { return data.consumers().get(toRank).size(); }

    /** Ranks this rank sends messages to, ascending. */
    public List<Integer> outgoingRanks() { return outgoingRanks; }

    /** Model stages on this rank in chunk order (the schedule's placement). */
    public int stageOfChunk(int chunk) { return chunkStage[chunk]; }

    /** Chunk index of a model stage on this rank. */
    public int chunkOf(int stage) {
        for (int c = 0; c < chunkStage.length; c++) if (chunkStage[c] == stage) return c;
        throw new IllegalArgumentException("stage " + stage + " is not on rank " + data.rank());
    }

    public int chunks() { return data.virtualStages(); }

    /** Static bytes of the rank: the sum over its model stages. */
    public long staticBytes() {
        long s = 0;
        for (StageCost c : data.chunkCosts()) s += c.staticBytes();
        return s;
    }
}
