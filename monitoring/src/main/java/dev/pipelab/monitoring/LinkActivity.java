package dev.pipelab.monitoring;

import java.util.ArrayList;
import java.util.Arrays;
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

    /** The recorder's columns; each equal to {@code previous}'s (may be null) is shared with it instead of copied. */
    private LinkActivity(Recorder r, int step, LinkActivity previous) {
        boolean p = previous != null;
        this.step = step;
        this.replica = r.replica;
        this.fromRank = r.fromRank;
        this.toRank = r.toRank;
        this.atSeconds = r.atSeconds;
        this.transfers = r.transfers;
        this.kind = Columns.of(p ? previous.kind : null, r.kind, transfers);
        this.stage = Columns.of(p ? previous.stage : null, r.stage, transfers);
        this.microBatch = Columns.of(p ? previous.microBatch : null, r.microBatch, transfers);
        this.bytes = Columns.of(p ? previous.bytes : null, r.bytes, transfers);
        this.ready = Columns.of(p ? previous.ready : null, r.ready, transfers);
        this.start = Columns.of(p ? previous.start : null, r.start, transfers);
        this.end = Columns.of(p ? previous.end : null, r.end, transfers);
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
     * Records one link's transfers into growable primitive columns and hands them out as a {@link LinkActivity}.
     * Invariant: not thread-safe (one actor owns it); {@link #take} leaves it empty for the next batch.
     */
    public static final class Recorder {
        private final int replica;
        private final int fromRank;
        private final int toRank;
        private double atSeconds = Double.NEGATIVE_INFINITY;
        private int transfers;
        private byte[] kind = new byte[16];
        private int[] stage = new int[16];
        private int[] microBatch = new int[16];
        private long[] bytes = new long[16];
        private double[] ready = new double[16];
        private double[] start = new double[16];
        private double[] end = new double[16];
        private LinkActivity previous;

        public Recorder(int replica, int fromRank, int toRank) {
            this.replica = replica;
            this.fromRank = fromRank;
            this.toRank = toRank;
        }

        /** A message of kind {@code k} (one of {@link #KINDS}). */
        public void transfer(String k, int stg, int mb, long size, double readyAt, double startAt, double endAt) {
            int code = KINDS.indexOf(k);
            if (code < 0) throw new IllegalArgumentException("transfer kind must be one of " + KINDS + ", got " + k);
            if (transfers == kind.length) {
                int n = transfers * 2;
                kind = Arrays.copyOf(kind, n);
                stage = Arrays.copyOf(stage, n);
                microBatch = Arrays.copyOf(microBatch, n);
                bytes = Arrays.copyOf(bytes, n);
                ready = Arrays.copyOf(ready, n);
                start = Arrays.copyOf(start, n);
                end = Arrays.copyOf(end, n);
            }
            kind[transfers] = (byte) code;
            stage[transfers] = stg;
            microBatch[transfers] = mb;
            bytes[transfers] = size;
            ready[transfers] = readyAt;
            start[transfers] = startAt;
            end[transfers] = endAt;
            transfers++;
            if (endAt > atSeconds) atSeconds = endAt;
        }

        /** How many transfers since the last take. */
        public int size() {
            return transfers;
        }

        public boolean isEmpty() {
            return transfers == 0;
        }

        /**
         * Everything recorded since the last take, as the batch of {@code step}; the recorder is empty after. Columns
         * equal to the previous batch's are shared with it (see {@link RankActivity.Recorder#take}).
         */
        public LinkActivity take(int step) {
            LinkActivity out = new LinkActivity(this, step, previous);
            previous = out;
            clear();
            return out;
        }

        public void clear() {
            transfers = 0;
            atSeconds = Double.NEGATIVE_INFINITY;
        }
    }
}
