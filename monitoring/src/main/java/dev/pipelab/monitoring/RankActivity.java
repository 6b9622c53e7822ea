package dev.pipelab.monitoring;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What one pipeline rank of one replica did in one step (or, in wall time, in a slice of it), as columns: its compute
 * spans (the optimizer as phase {@link Phase#OPT}, stage -1, micro-batch -1), its memory changes, its waits for credit
 * and the all-reduces of its model stages. Invariant: immutable once built; each column group is in the order the rank
 * recorded it, which for actions is the rank's execution order (start order); every column is exactly as long as its
 * count, so an index out of range fails in the array access itself.
 *
 * <p>Consumers that care for speed read the columns ({@link #actions()}, {@link #duration(int)}, ...) without
 * allocating; {@link #details()} gives the same spans as {@link Event.Detail} values.
 */
public final class RankActivity implements Event.Batch {

    private static final Phase[] PHASES = Phase.values();

    private final int step;
    private final int replica;
    private final int rank;
    private final double atSeconds;

    private final int actions;
    private final byte[] phase;
    private final int[] stage;
    private final int[] microBatch;
    private final double[] start;
    private final double[] end;
    private final double[] duration;

    private final int memoryChanges;
    private final double[] memoryAt;
    private final long[] memoryBytes;

    private final int stalls;
    private final int[] stallTo;
    private final double[] stallStart;
    private final double[] stallEnd;

    private final int allReduces;
    private final int[] allReduceStage;
    private final long[] allReduceBytes;
    private final double[] allReduceStart;
    private final double[] allReduceEnd;

    /** The recorder's columns; each equal to {@code previous}'s (may be null) is shared with it instead of copied. */
    private RankActivity(Recorder r, int step, RankActivity previous) {
        boolean p = previous != null;
        this.step = step;
        this.replica = r.replica;
        this.rank = r.rank;
        this.atSeconds = r.atSeconds;
        this.actions = r.actions;
        this.phase = Columns.of(p ? previous.phase : null, r.phase, r.actions);
        this.stage = Columns.of(p ? previous.stage : null, r.stage, r.actions);
        this.microBatch = Columns.of(p ? previous.microBatch : null, r.microBatch, r.actions);
        this.start = Columns.of(p ? previous.start : null, r.start, r.actions);
        this.end = Columns.of(p ? previous.end : null, r.end, r.actions);
        this.duration = Columns.of(p ? previous.duration : null, r.duration, r.actions);
        this.memoryChanges = r.memoryChanges;
        this.memoryAt = Columns.of(p ? previous.memoryAt : null, r.memoryAt, r.memoryChanges);
        this.memoryBytes = Columns.of(p ? previous.memoryBytes : null, r.memoryBytes, r.memoryChanges);
        this.stalls = r.stalls;
        this.stallTo = Columns.of(p ? previous.stallTo : null, r.stallTo, r.stalls);
        this.stallStart = Columns.of(p ? previous.stallStart : null, r.stallStart, r.stalls);
        this.stallEnd = Columns.of(p ? previous.stallEnd : null, r.stallEnd, r.stalls);
        this.allReduces = r.allReduces;
        this.allReduceStage = Columns.of(p ? previous.allReduceStage : null, r.allReduceStage, r.allReduces);
        this.allReduceBytes = Columns.of(p ? previous.allReduceBytes : null, r.allReduceBytes, r.allReduces);
        this.allReduceStart = Columns.of(p ? previous.allReduceStart : null, r.allReduceStart, r.allReduces);
        this.allReduceEnd = Columns.of(p ? previous.allReduceEnd : null, r.allReduceEnd, r.allReduces);
    }

    @Override
    public int step() { return step; }

    public int replica() { return replica; }

    public int rank() { return rank; }

    /** When the batch's last span ended (its latest time). */
    @Override
    public double atSeconds() { return atSeconds; }

    // ---------------------------------------------------------------- actions

    /** How many compute spans (the optimizer included). */
    public int actions() { return actions; }

    public Phase phase(int i) { return PHASES[phase[i]]; }

    /** The model stage of span {@code i}; -1 for the optimizer. */
    public int stage(int i) { return stage[i]; }

    /** The micro-batch of span {@code i}; -1 for the optimizer. */
    public int microBatch(int i) { return microBatch[i]; }

    public double start(int i) { return start[i]; }

    public double end(int i) { return end[i]; }

    /** The exact duration of span {@code i} (see {@link Event.ActionSpan}). */
    public double duration(int i) { return duration[i]; }

    public Event.ActionSpan action(int i) {
        return new Event.ActionSpan(step, replica, rank, stage(i), phase(i), microBatch[i], start[i], end[i], duration[i]);
    }

    // ---------------------------------------------------------------- memory

    /** How many memory changes. */
    public int memoryChanges() { return memoryChanges; }

    public double memoryAt(int i) { return memoryAt[i]; }

    /** Static plus live bytes after change {@code i}. */
    public long memoryBytes(int i) { return memoryBytes[i]; }

    public Event.MemoryChanged memoryChange(int i) {
        return new Event.MemoryChanged(step, replica, rank, memoryAt(i), memoryBytes[i]);
    }

    // ---------------------------------------------------------------- stalls

    /** How many waits for credit. */
    public int stalls() { return stalls; }

    /** The rank whose credit wait {@code i} was for. */
    public int stallTo(int i) { return stallTo[i]; }

    public double stallStart(int i) { return stallStart[i]; }

    public double stallEnd(int i) { return stallEnd[i]; }

    public Event.CreditStall stall(int i) {
        return new Event.CreditStall(step, replica, rank, stallTo(i), stallStart[i], stallEnd[i]);
    }

    // ---------------------------------------------------------------- all-reduces

    /** How many all-reduces (one per model stage of the rank whose gradients were reduced). */
    public int allReduces() { return allReduces; }

    public int allReduceStage(int i) { return allReduceStage[i]; }

    public long allReduceBytes(int i) { return allReduceBytes[i]; }

    public double allReduceStart(int i) { return allReduceStart[i]; }

    public double allReduceEnd(int i) { return allReduceEnd[i]; }

    public Event.AllReduceSpan allReduce(int i) {
        return new Event.AllReduceSpan(step, replica, rank, allReduceStage(i), allReduceBytes[i], allReduceStart[i],
                allReduceEnd[i]);
    }

    // the columns themselves, for this package's folds; never written (a batch is immutable)
    byte[] phaseColumn() { return phase; }

    int[] stageColumn() { return stage; }

    int[] microBatchColumn() { return microBatch; }

    double[] startColumn() { return start; }

    double[] endColumn() { return end; }

    double[] durationColumn() { return duration; }

    @Override
    public List<Event.Detail> details() {
        List<Event.Detail> out = new ArrayList<>(actions + memoryChanges + stalls + allReduces);
        for (int i = 0; i < actions; i++) out.add(action(i));
        for (int i = 0; i < memoryChanges; i++) out.add(memoryChange(i));
        for (int i = 0; i < stalls; i++) out.add(stall(i));
        for (int i = 0; i < allReduces; i++) out.add(allReduce(i));
        return out;
    }

    @Override
    public String toString() {
        return "RankActivity[step=" + step + ", replica=" + replica + ", rank=" + rank + ", actions=" + actions
                + ", memoryChanges=" + memoryChanges + ", stalls=" + stalls + ", allReduces=" + allReduces + "]";
    }

    /**
     * Records one rank's spans into growable primitive columns and hands them out as a {@link RankActivity}.
     * Invariant: not thread-safe (one actor owns it); {@link #take} leaves it empty for the next batch.
     */
    public static final class Recorder {
        private final int replica;
        private final int rank;
        private double atSeconds = Double.NEGATIVE_INFINITY;
        private int actions;
        private byte[] phase = new byte[16];
        private int[] stage = new int[16];
        private int[] microBatch = new int[16];
        private double[] start = new double[16];
        private double[] end = new double[16];
        private double[] duration = new double[16];
        private int memoryChanges;
        private double[] memoryAt = new double[16];
        private long[] memoryBytes = new long[16];
        private int stalls;
        private int[] stallTo = new int[4];
        private double[] stallStart = new double[4];
        private double[] stallEnd = new double[4];
        private int allReduces;
        private int[] allReduceStage = new int[4];
        private long[] allReduceBytes = new long[4];
        private double[] allReduceStart = new double[4];
        private double[] allReduceEnd = new double[4];
        private RankActivity previous;

        public Recorder(int replica, int rank) {
            this.replica = replica;
            this.rank = rank;
        }

        /** A compute span; the optimizer is {@code (Phase.OPT, -1, -1, ...)}. */
        public void action(Phase ph, int stg, int mb, double s, double e, double d) {
            if (actions == phase.length) {
                int n = actions * 2;
                phase = Arrays.copyOf(phase, n);
                stage = Arrays.copyOf(stage, n);
                microBatch = Arrays.copyOf(microBatch, n);
                start = Arrays.copyOf(start, n);
                end = Arrays.copyOf(end, n);
                duration = Arrays.copyOf(duration, n);
            }
            phase[actions] = (byte) ph.ordinal();
            stage[actions] = stg;
            microBatch[actions] = mb;
            start[actions] = s;
            end[actions] = e;
            duration[actions] = d;
            actions++;
            at(e);
        }

        /** Static plus live bytes after a change at {@code at}. */
        public void memory(double at, long bytes) {
            if (memoryChanges == memoryAt.length) {
                memoryAt = Arrays.copyOf(memoryAt, memoryChanges * 2);
                memoryBytes = Arrays.copyOf(memoryBytes, memoryChanges * 2);
            }
            memoryAt[memoryChanges] = at;
            memoryBytes[memoryChanges] = bytes;
            memoryChanges++;
            at(at);
        }

        /** The rank waited for credit on its link to {@code toRank} from {@code s} to {@code e}. */
        public void stall(int toRank, double s, double e) {
            if (stalls == stallTo.length) {
                stallTo = Arrays.copyOf(stallTo, stalls * 2);
                stallStart = Arrays.copyOf(stallStart, stalls * 2);
                stallEnd = Arrays.copyOf(stallEnd, stalls * 2);
            }
            stallTo[stalls] = toRank;
            stallStart[stalls] = s;
            stallEnd[stalls] = e;
            stalls++;
            at(e);
        }

        /** Model stage {@code stg}'s all-reduce ran from {@code s} to {@code e}, moving {@code bytes}. */
        public void allReduce(int stg, long bytes, double s, double e) {
            if (allReduces == allReduceStage.length) {
                allReduceStage = Arrays.copyOf(allReduceStage, allReduces * 2);
                allReduceBytes = Arrays.copyOf(allReduceBytes, allReduces * 2);
                allReduceStart = Arrays.copyOf(allReduceStart, allReduces * 2);
                allReduceEnd = Arrays.copyOf(allReduceEnd, allReduces * 2);
            }
            allReduceStage[allReduces] = stg;
            allReduceBytes[allReduces] = bytes;
            allReduceStart[allReduces] = s;
            allReduceEnd[allReduces] = e;
            allReduces++;
            at(e);
        }

        private void at(double t) {
            if (t > atSeconds) atSeconds = t;
        }

        public boolean isEmpty() {
            return actions == 0 && memoryChanges == 0 && stalls == 0 && allReduces == 0;
        }

        /**
         * Everything recorded since the last take, as the batch of {@code step}; the recorder is empty after. A column
         * equal to the same column of the previous batch is shared with it, not copied: in virtual time every step of
         * a run repeats the same spans, so a run of any length keeps one step's columns (the batches are immutable).
         */
        public RankActivity take(int step) {
            RankActivity out = new RankActivity(this, step, previous);
            previous = out;
            clear();
            return out;
        }

        /** Forgets what was recorded. */
        public void clear() {
            actions = 0;
            memoryChanges = 0;
            stalls = 0;
            allReduces = 0;
            atSeconds = Double.NEGATIVE_INFINITY;
        }
    }
}
