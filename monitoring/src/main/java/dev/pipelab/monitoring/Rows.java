package dev.pipelab.monitoring;

import java.util.Arrays;

/**
 * A recorder's growable table, stored by row: each record is {@code stride} consecutive longs (doubles as their raw
 * bits), so recording one span writes one or two cache lines instead of one line per column. Why: a stage or link
 * records a span between messages of other actors, which evict its lines; with one array per column each span cost
 * a miss per column, and in the runtime that was most of telemetry's cost.
 *
 * <p>Freezing turns one field into an immutable batch column, shared with the previous batch's column when equal;
 * when the whole table equals the remembered one (a virtual-time step repeats the previous step exactly), the
 * recorder shares every column at the cost of one comparison.
 * Invariant: a returned column is never written again (the rows are never handed out). Doubles compare by their raw
 * bits, so a shared column reads back as recorded, bit for bit.
 */
final class Rows {

    private final int stride;
    private long[] data;
    private int count;
    /** The rows as of the last {@link #remember}, and how many. */
    private long[] last = new long[0];
    private int lastCount = -1;

    Rows(int stride, int capacityRows) {
        this.stride = stride;
        this.data = new long[stride * capacityRows];
    }

    /** Appends a row and returns the array and offset to fill: {@code array()[offset + field]}. */
    int add() {
        int at = count * stride;
        if (at + stride > data.length) data = Arrays.copyOf(data, data.length * 2);
        count++;
        return at;
    }

    /** The backing array; valid until the next {@link #add}. */
    long[] array() {
        return data;
    }

    int count() {
        return count;
    }

    void clear() {
        count = 0;
    }

    /**
     * Whether the rows equal those of the last {@link #remember}, bit for bit: one vectorised comparison of the raw
     * table, where freezing the columns would compare field by field with a stride.
     */
    boolean sameAsRemembered() {
        int n = count * stride;
        return count == lastCount && Arrays.equals(data, 0, n, last, 0, n);
    }

    /** Remembers nothing: {@link #sameAsRemembered} is false until the next {@link #remember}. */
    void forget() {
        lastCount = -1;
    }

    /** Keeps a copy of the current rows for {@link #sameAsRemembered}. */
    void remember() {
        int n = count * stride;
        if (last.length < n) last = new long[data.length];
        System.arraycopy(data, 0, last, 0, n);
        lastCount = count;
    }

    byte[] bytes(int field, byte[] previous) {
        if (previous != null && previous.length == count) {
            int i = 0;
            for (int at = field; i < count && previous[i] == data[at]; at += stride) i++;
            if (i == count) return previous;
        }
        byte[] out = new byte[count];
        for (int i = 0, at = field; i < count; i++, at += stride) out[i] = (byte) data[at];
        return out;
    }

    int[] ints(int field, int[] previous) {
        if (previous != null && previous.length == count) {
            int i = 0;
            for (int at = field; i < count && previous[i] == data[at]; at += stride) i++;
            if (i == count) return previous;
        }
        int[] out = new int[count];
        for (int i = 0, at = field; i < count; i++, at += stride) out[i] = (int) data[at];
        return out;
    }

    long[] longs(int field, long[] previous) {
        if (previous != null && previous.length == count) {
            int i = 0;
            for (int at = field; i < count && previous[i] == data[at]; at += stride) i++;
            if (i == count) return previous;
        }
        long[] out = new long[count];
        for (int i = 0, at = field; i < count; i++, at += stride) out[i] = data[at];
        return out;
    }

    double[] doubles(int field, double[] previous) {
        if (previous != null && previous.length == count) {
            int i = 0;
            for (int at = field; i < count && Double.doubleToRawLongBits(previous[i]) == data[at]; at += stride) i++;
            if (i == count) return previous;
        }
        double[] out = new double[count];
        for (int i = 0, at = field; i < count; i++, at += stride) out[i] = Double.longBitsToDouble(data[at]);
        return out;
    }
}
