package dev.pipelab.monitoring;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

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

    /** The recorder's rows as columns; each equal to {@code previous}'s (may be null) is shared with it, not copied. */
    private RankActivity(Recorder r, int step, RankActivity previous) {
        boolean p = previous != null;
        this.step = step;
        this.replica = r.replica;
        this.rank = r.rank;
        this.atSeconds = r.atSeconds;
        if (r.segment) {
            this.actions = r.segmentPhase.length;
            this.phase = r.segmentPhase;
            this.stage = r.segmentStage;
            this.microBatch = r.segmentMicroBatch;
            this.start = r.segmentStart;
            this.end = r.segmentEnd;
            this.duration = r.segmentDuration;
        } else {
            Rows a = r.actionRows;
            this.actions = a.count();
            this.phase = a.bytes(0, p ? previous.phase : null);
            this.stage = a.ints(1, p ? previous.stage : null);
            this.microBatch = a.ints(2, p ? previous.microBatch : null);
            this.start = a.doubles(3, p ? previous.start : null);
            this.end = a.doubles(4, p ? previous.end : null);
            this.duration = a.doubles(5, p ? previous.duration : null);
        }
        if (r.memorySegment) {
            this.memoryChanges = r.segmentMemoryAt.length;
            this.memoryAt = r.segmentMemoryAt;
            this.memoryBytes = r.segmentMemoryBytes;
        } else {
            Rows m = r.memoryRows;
            this.memoryChanges = m.count();
            this.memoryAt = m.doubles(0, p ? previous.memoryAt : null);
            this.memoryBytes = m.longs(1, p ? previous.memoryBytes : null);
        }
        Rows w = r.stallRows;
        this.stalls = w.count();
        this.stallTo = w.ints(0, p ? previous.stallTo : null);
        this.stallStart = w.doubles(1, p ? previous.stallStart : null);
        this.stallEnd = w.doubles(2, p ? previous.stallEnd : null);
        Rows g = r.allReduceRows;
        this.allReduces = g.count();
        this.allReduceStage = g.ints(0, p ? previous.allReduceStage : null);
        this.allReduceBytes = g.longs(1, p ? previous.allReduceBytes : null);
        this.allReduceStart = g.doubles(2, p ? previous.allReduceStart : null);
        this.allReduceEnd = g.doubles(3, p ? previous.allReduceEnd : null);
    }

    /** {@code same}'s columns as the batch of {@code step}. */
    private RankActivity(RankActivity same, int step) {
        this.step = step;
        this.replica = same.replica;
        this.rank = same.rank;
        this.atSeconds = same.atSeconds;
        this.actions = same.actions;
        this.phase = same.phase;
        this.stage = same.stage;
        this.microBatch = same.microBatch;
        this.start = same.start;
        this.end = same.end;
        this.duration = same.duration;
        this.memoryChanges = same.memoryChanges;
        this.memoryAt = same.memoryAt;
        this.memoryBytes = same.memoryBytes;
        this.stalls = same.stalls;
        this.stallTo = same.stallTo;
        this.stallStart = same.stallStart;
        this.stallEnd = same.stallEnd;
        this.allReduces = same.allReduces;
        this.allReduceStage = same.allReduceStage;
        this.allReduceBytes = same.allReduceBytes;
        this.allReduceStart = same.allReduceStart;
        this.allReduceEnd = same.allReduceEnd;
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

    double[] memoryAtColumn() { return memoryAt; }

    long[] memoryBytesColumn() { return memoryBytes; }

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
     * Records one rank's spans into growable tables (by row, see {@link Rows}) and hands them out as a
     * {@link RankActivity}. Invariant: not thread-safe (one actor owns it); {@link #take} leaves it empty for the next
     * batch.
     */
    public static final class Recorder {
        private final int replica;
        private final int rank;
        private double atSeconds = Double.NEGATIVE_INFINITY;
        /** phase, stage, micro-batch, start, end, duration. */
        private final Rows actionRows = new Rows(6, 16);
        /** at, bytes. */
        private final Rows memoryRows = new Rows(2, 16);
        /** to rank, start, end. */
        private final Rows stallRows = new Rows(3, 4);
        /** stage, bytes, start, end. */
        private final Rows allReduceRows = new Rows(4, 4);
        /** Whether this batch's actions came as one range of columns ({@link #actions(byte[], int[], int[], double[], double[], double[], int, int) actions}). */
        private boolean segment;
        private byte[] segmentPhase;
        private int[] segmentStage;
        private int[] segmentMicroBatch;
        private double[] segmentStart;
        private double[] segmentEnd;
        private double[] segmentDuration;
        /** Whether this batch's memory changes came as one range of columns ({@link #memoryChanges}). */
        private boolean memorySegment;
        private double[] segmentMemoryAt;
        private long[] segmentMemoryBytes;
        private RankActivity previous;

        public Recorder(int replica, int rank) {
            this.replica = replica;
            this.rank = rank;
        }

        /**
         * This batch's compute spans at once, as entries {@code [from, to)} of whole columns ({@code phase} holds
         * {@link Phase} ordinals): a rank's state keeps these arrays anyway, so recording them costs no write per span
         * (in the runtime, a write per span was a cache miss per span). Each range equal to the previous batch's column
         * is shared with it, otherwise copied now; the arrays stay the caller's. At most once per batch, and not
         * together with {@link #action}.
         */
        public void actions(byte[] phase, int[] stage, int[] microBatch, double[] start, double[] end, double[] duration,
                            int from, int to) {
            if (segment || actionRows.count() > 0) {
                throw new IllegalStateException("a batch's actions come either span by span or as one range of columns");
            }
            Columns.sameLength(phase.length, stage.length, microBatch.length, start.length, end.length, duration.length);
            Objects.checkFromToIndex(from, to, phase.length);
            boolean p = previous != null;
            segment = true;
            segmentPhase = Columns.share(p ? previous.phase : null, phase, from, to);
            segmentStage = Columns.share(p ? previous.stage : null, stage, from, to);
            segmentMicroBatch = Columns.share(p ? previous.microBatch : null, microBatch, from, to);
            segmentStart = Columns.share(p ? previous.start : null, start, from, to);
            segmentEnd = Columns.share(p ? previous.end : null, end, from, to);
            segmentDuration = Columns.share(p ? previous.duration : null, duration, from, to);
            for (int i = from; i < to; i++) at(end[i]);
        }

        /** A compute span; the optimizer is {@code (Phase.OPT, -1, -1, ...)}. */
        public void action(Phase ph, int stg, int mb, double s, double e, double d) {
            if (segment) throw new IllegalStateException("a batch's actions come either span by span or as one range of columns");
            int at = actionRows.add();
            long[] row = actionRows.array();
            row[at] = ph.ordinal();
            row[at + 1] = stg;
            row[at + 2] = mb;
            row[at + 3] = Double.doubleToRawLongBits(s);
            row[at + 4] = Double.doubleToRawLongBits(e);
            row[at + 5] = Double.doubleToRawLongBits(d);
            at(e);
        }

        /**
         * This batch's memory changes at once, as entries {@code [from, to)} of whole columns (times, and static plus
         * live bytes after each change), shared with the previous batch's columns when equal, otherwise copied now
         * (see {@link #actions(byte[], int[], int[], double[], double[], double[], int, int) actions}). At most once
         * per batch, and not together with {@link #memory}.
         */
        public void memoryChanges(double[] at, long[] bytes, int from, int to) {
            if (memorySegment || memoryRows.count() > 0) {
                throw new IllegalStateException("a batch's memory changes come either one by one or as one range of columns");
            }
            Columns.sameLength(at.length, bytes.length);
            Objects.checkFromToIndex(from, to, at.length);
            boolean p = previous != null;
            memorySegment = true;
            segmentMemoryAt = Columns.share(p ? previous.memoryAt : null, at, from, to);
            segmentMemoryBytes = Columns.share(p ? previous.memoryBytes : null, bytes, from, to);
            for (int i = from; i < to; i++) at(at[i]);
        }

        /** Static plus live bytes after a change at {@code at}. */
        public void memory(double at, long bytes) {
            if (memorySegment) {
                throw new IllegalStateException("a batch's memory changes come either one by one or as one range of columns");
            }
            int i = memoryRows.add();
            long[] row = memoryRows.array();
            row[i] = Double.doubleToRawLongBits(at);
            row[i + 1] = bytes;
            at(at);
        }

        /** The rank waited for credit on its link to {@code toRank} from {@code s} to {@code e}. */
        public void stall(int toRank, double s, double e) {
            int at = stallRows.add();
            long[] row = stallRows.array();
            row[at] = toRank;
            row[at + 1] = Double.doubleToRawLongBits(s);
            row[at + 2] = Double.doubleToRawLongBits(e);
            at(e);
        }

        /** Model stage {@code stg}'s all-reduce ran from {@code s} to {@code e}, moving {@code bytes}. */
        public void allReduce(int stg, long bytes, double s, double e) {
            int at = allReduceRows.add();
            long[] row = allReduceRows.array();
            row[at] = stg;
            row[at + 1] = bytes;
            row[at + 2] = Double.doubleToRawLongBits(s);
            row[at + 3] = Double.doubleToRawLongBits(e);
            at(e);
        }

        private void at(double t) {
            if (t > atSeconds) atSeconds = t;
        }

        public boolean isEmpty() {
            return !segment && actionRows.count() == 0 && !memorySegment && memoryRows.count() == 0 && stallRows.count() == 0
                    && allReduceRows.count() == 0;
        }

        /**
         * Everything recorded since the last take, as the batch of {@code step}; the recorder is empty after. A column
         * equal to the same column of the previous batch is shared with it, not copied: in virtual time every step of
         * a run repeats the same spans, so a run of any length keeps one step's columns (the batches are immutable).
         */
        public RankActivity take(int step) {
            RankActivity out;
            boolean sameActions = previous != null && (segment
                    ? segmentPhase == previous.phase && segmentStage == previous.stage
                            && segmentMicroBatch == previous.microBatch && segmentStart == previous.start
                            && segmentEnd == previous.end && segmentDuration == previous.duration
                    : actionRows.sameAsRemembered());
            boolean sameMemory = previous != null && (memorySegment
                    ? segmentMemoryAt == previous.memoryAt && segmentMemoryBytes == previous.memoryBytes
                    : memoryRows.sameAsRemembered());
            if (sameActions && sameMemory && stallRows.sameAsRemembered() && allReduceRows.sameAsRemembered()) {
                out = new RankActivity(previous, step); // same rows, so the same columns and latest time
            } else {
                out = new RankActivity(this, step, previous);
                if (segment) actionRows.forget(); // the remembered rows describe the previous batch only
                else actionRows.remember();
                if (memorySegment) memoryRows.forget();
                else memoryRows.remember();
                stallRows.remember();
                allReduceRows.remember();
            }
            previous = out;
            clear();
            return out;
        }

        /** Forgets what was recorded. */
        public void clear() {
            segment = false;
            segmentPhase = null;
            segmentStage = null;
            segmentMicroBatch = null;
            segmentStart = null;
            segmentEnd = null;
            segmentDuration = null;
            memorySegment = false;
            segmentMemoryAt = null;
            segmentMemoryBytes = null;
            actionRows.clear();
            memoryRows.clear();
            stallRows.clear();
            allReduceRows.clear();
            atSeconds = Double.NEGATIVE_INFINITY;
        }
    }
}
