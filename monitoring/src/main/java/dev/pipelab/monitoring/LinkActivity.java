package dev.pipelab.monitoring;

import java.util.ArrayList;
import java.util.List;

/**
 * What one link carried in one step (or, in wall time, a slice of it), as columns: every message with its kind,
 * payload, size and the times it was ready, left and arrived. A pipeline link is {@code (replica, fromRank ->
 * toRank)}; a ring link of the all-reduce is {@code (replica, rank -> rank)} towards the next replica. Invariant:
 * immutable once built; transfers are in the order the link carried them (FIFO, so by start).
 */
public final class LinkActivity implements Event.Batch {

    /** The kinds a transfer can have; {@link #kind(int)} is one of these. */
    public static final List<String> KINDS = List.of("activation", "gradient", "allreduce");

    private final int step;
    private final int replica;
    private final int fromRank;
    private final int toRank;
    private final double atSeconds;
    private final int transfers;
    private final byte[] kind;
    private final int[] stage;
    private final int[] microBatch;
    private final long[] bytes;
    private final double[] ready;
    private final double[] start;
    private final double[] end;

    /** The recorder's rows as columns; each equal to {@code previous}'s (may be null) is shared with it, not copied. */
    private LinkActivity(Recorder r, int step, LinkActivity previous) {
        boolean p = previous != null;
        Rows t = r.rows;
        this.step = step;
        this.replica = r.replica;
        this.fromRank = r.fromRank;
        this.toRank = r.toRank;
        this.atSeconds = r.atSeconds;
        if (r.segment != null) {
            Frozen g = r.segment;
            this.transfers = g.kind.length;
            this.kind = g.kind;
            this.stage = g.stage;
            this.microBatch = g.microBatch;
            this.bytes = g.bytes;
            this.ready = g.ready;
            this.start = g.start;
            this.end = g.end;
            return;
        }
        this.transfers = t.count();
        this.kind = t.bytes(0, p ? previous.kind : null);
        this.stage = t.ints(1, p ? previous.stage : null);
        this.microBatch = t.ints(2, p ? previous.microBatch : null);
        this.bytes = t.longs(3, p ? previous.bytes : null);
        this.ready = t.doubles(4, p ? previous.ready : null);
        this.start = t.doubles(5, p ? previous.start : null);
        this.end = t.doubles(6, p ? previous.end : null);
    }

    /** {@code same}'s columns as the batch of {@code step}. */
    private LinkActivity(LinkActivity same, int step) {
        this.step = step;
        this.replica = same.replica;
        this.fromRank = same.fromRank;
        this.toRank = same.toRank;
        this.atSeconds = same.atSeconds;
        this.transfers = same.transfers;
        this.kind = same.kind;
        this.stage = same.stage;
        this.microBatch = same.microBatch;
        this.bytes = same.bytes;
        this.ready = same.ready;
        this.start = same.start;
        this.end = same.end;
    }

    /**
     * This batch's transfers as the batch of {@code step}, sharing every column: for a producer that knows a step
     * carried exactly what an earlier one did (in virtual time every step repeats the same timeline).
     */
    public LinkActivity withStep(int step) {
        return step == this.step ? this : new LinkActivity(this, step);
    }

    @Override
    public int step() { return step; }

    public int replica() { return replica; }

    public int fromRank() { return fromRank; }

    public int toRank() { return toRank; }

    /** When the batch's last transfer arrived. */
    @Override
    public double atSeconds() { return atSeconds; }

    /** How many messages. */
    public int transfers() { return transfers; }

    /** One of {@link #KINDS}. */
    public String kind(int i) { return KINDS.get(kind[i]); }

    /** The index of {@link #kind(int)} in {@link #KINDS}. */
    public int kindIndex(int i) { return kind[i]; }

    /** The model stage whose output (or all-reduce chunk) this is. */
    public int stage(int i) { return stage[i]; }

    /** The micro-batch; -1 for all-reduce chunks. */
    public int microBatch(int i) { return microBatch[i]; }

    public long bytes(int i) { return bytes[i]; }

    /** When the payload was ready to leave. */
    public double ready(int i) { return ready[i]; }

    /** When it left (the link was free and the payload ready). */
    public double start(int i) { return start[i]; }

    /** When it arrived. */
    public double end(int i) { return end[i]; }

    public Event.TransferSpan transfer(int i) {
        return new Event.TransferSpan(step, replica, fromRank, toRank, kind(i), stage[i], microBatch[i], bytes[i], ready[i],
                start[i], end[i]);
    }

    // the columns themselves, for this package's folds; never written (a batch is immutable)
    byte[] kindColumn() { return kind; }

    int[] stageColumn() { return stage; }

    int[] microBatchColumn() { return microBatch; }

    long[] bytesColumn() { return bytes; }

    double[] readyColumn() { return ready; }

    double[] startColumn() { return start; }

    double[] endColumn() { return end; }

    @Override
    public List<Event.Detail> details() {
        List<Event.Detail> out = new ArrayList<>(transfers);
        for (int i = 0; i < transfers; i++) out.add(transfer(i));
        return out;
    }

    @Override
    public String toString() {
        return "LinkActivity[step=" + step + ", replica=" + replica + ", " + fromRank + "->" + toRank + ", transfers="
                + transfers + "]";
    }

    /**
     * Records one link's transfers into a growable table (by row, see {@link Rows}) and hands them out as a
     * {@link LinkActivity}. Invariant: not thread-safe (one actor owns it); {@link #take} leaves it empty for the next
     * batch.
     */
    public static final class Recorder {
        private final int replica;
        private final int fromRank;
        private final int toRank;
        private double atSeconds = Double.NEGATIVE_INFINITY;
        /** kind, stage, micro-batch, bytes, ready, start, end. */
        private final Rows rows = new Rows(7, 16);
        /** This batch's transfers given as one range of columns, frozen (null: span by span, in {@link #rows}). */
        private Frozen segment;
        private LinkActivity previous;

        public Recorder(int replica, int fromRank, int toRank) {
            this.replica = replica;
            this.fromRank = fromRank;
            this.toRank = toRank;
        }

        /** A message of kind {@code k} (one of {@link #KINDS}). */
        public void transfer(String k, int stg, int mb, long size, double readyAt, double startAt, double endAt) {
            transfer(kindIndex(k), stg, mb, size, readyAt, startAt, endAt);
        }

        /**
         * This batch's transfers at once, as entries {@code [from, to)} of whole columns ({@code kind} holds indexes in
         * {@link #KINDS}): a link that keeps its step's messages in arrays (by sequence number) records them without a
         * write per transfer into the recorder (in the runtime, a write per span was a cache miss per span). Each range
         * equal to the previous batch's column is shared with it, otherwise copied now; the arrays stay the caller's.
         * At most once per batch, and not together with per-transfer calls.
         */
        public void transfers(byte[] k, int[] stg, int[] mb, long[] size, double[] readyAt, double[] startAt, double[] endAt,
                              int from, int to) {
            if (segment != null || rows.count() > 0) {
                throw new IllegalStateException("a batch's transfers come either one by one or as one range of columns");
            }
            Columns.sameLength(k.length, stg.length, mb.length, size.length, readyAt.length, startAt.length, endAt.length);
            java.util.Objects.checkFromToIndex(from, to, k.length);
            for (int i = from; i < to; i++) {
                if (k[i] < 0 || k[i] >= KINDS.size()) {
                    throw new IllegalArgumentException("transfer kind index must be in [0, " + KINDS.size() + "), got " + k[i]);
                }
            }
            LinkActivity p = previous;
            boolean q = p != null;
            segment = new Frozen(Columns.share(q ? p.kind : null, k, from, to),
                    Columns.share(q ? p.stage : null, stg, from, to), Columns.share(q ? p.microBatch : null, mb, from, to),
                    Columns.share(q ? p.bytes : null, size, from, to), Columns.share(q ? p.ready : null, readyAt, from, to),
                    Columns.share(q ? p.start : null, startAt, from, to), Columns.share(q ? p.end : null, endAt, from, to));
            for (int i = from; i < to; i++) if (endAt[i] > atSeconds) atSeconds = endAt[i];
        }

        /** A message of kind {@code KINDS.get(k)}. */
        public void transfer(int k, int stg, int mb, long size, double readyAt, double startAt, double endAt) {
            if (segment != null) {
                throw new IllegalStateException("a batch's transfers come either one by one or as one range of columns");
            }
            if (k < 0 || k >= KINDS.size()) throw new IllegalArgumentException("transfer kind index must be in [0, "
                    + KINDS.size() + "), got " + k);
            int at = rows.add();
            long[] row = rows.array();
            row[at] = k;
            row[at + 1] = stg;
            row[at + 2] = mb;
            row[at + 3] = size;
            row[at + 4] = Double.doubleToRawLongBits(readyAt);
            row[at + 5] = Double.doubleToRawLongBits(startAt);
            row[at + 6] = Double.doubleToRawLongBits(endAt);
            if (endAt > atSeconds) atSeconds = endAt;
        }

        /** How many transfers since the last take. */
        public int size() {
            return segment != null ? segment.kind.length : rows.count();
        }

        public boolean isEmpty() {
            return size() == 0;
        }

        /**
         * Everything recorded since the last take, as the batch of {@code step}; the recorder is empty after. Columns
         * equal to the previous batch's are shared with it (see {@link RankActivity.Recorder#take}).
         */
        public LinkActivity take(int step) {
            LinkActivity out;
            LinkActivity p = previous;
            Frozen g = segment;
            boolean same = p != null && (g != null
                    ? g.kind == p.kind && g.stage == p.stage && g.microBatch == p.microBatch && g.bytes == p.bytes
                            && g.ready == p.ready && g.start == p.start && g.end == p.end
                    : rows.sameAsRemembered());
            if (same) {
                out = new LinkActivity(p, step); // same columns, so the same latest time
            } else {
                out = new LinkActivity(this, step, p);
                if (g != null) rows.forget(); // the remembered rows describe the previous batch only
                else rows.remember();
            }
            previous = out;
            clear();
            return out;
        }

        public void clear() {
            segment = null;
            rows.clear();
            atSeconds = Double.NEGATIVE_INFINITY;
        }
    }

    /** A range of a link's columns, frozen by {@link Recorder#transfers}: shared with the previous batch or copied. */
    private record Frozen(byte[] kind, int[] stage, int[] microBatch, long[] bytes, double[] ready, double[] start,
                          double[] end) {}

    /** The index of {@code kind} in {@link #KINDS}. */
    public static int kindIndex(String kind) {
        int code = KINDS.indexOf(kind);
        if (code < 0) throw new IllegalArgumentException("transfer kind must be one of " + KINDS + ", got " + kind);
        return code;
    }
}
