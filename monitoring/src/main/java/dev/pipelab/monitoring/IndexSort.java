package dev.pipelab.monitoring;

/**
 * A stable sort of row indices {@code 0 .. n-1} by an order over rows of primitive columns. Invariant: rows that the
 * order calls equal keep their input order, exactly as {@link java.util.List#sort} keeps them; this is what lets
 * {@link RunAggregate} reproduce the sums it used to compute over sorted lists of span objects, bit for bit.
 *
 * <p>Why not {@code List.sort} over boxed indices: the aggregate sorts on the telemetry consumer's thread, which
 * shares the machine with the emulation, and a boxed index per span is the very allocation the columns avoid.
 */
final class IndexSort {

    /** A comparison of rows {@code a} and {@code b}, as {@link java.util.Comparator#compare}. */
    @FunctionalInterface
    interface RowOrder {
        int compare(int a, int b);
    }

    private static final int INSERTION = 16;

    private IndexSort() {}

    /** Whether rows {@code 0 .. n-1} are already in {@code order} (then the stable sort is the identity). */
    static boolean isSorted(int n, RowOrder order) {
        for (int i = 1; i < n; i++) if (order.compare(i - 1, i) > 0) return false;
        return true;
    }

    /**
     * The rows {@code 0 .. n-1} in {@code order}, ties in input order; {@code null} when they already are in order, so
     * that the common case (one slice per step, recorded in execution order) costs one pass and no copy.
     */
    static int[] sortedOrNull(int n, RowOrder order) {
        if (isSorted(n, order)) return null;
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) rows[i] = i;
        sort(rows, new int[n], 0, n, order);
        return rows;
    }

    /** Top-down merge sort of {@code rows[from, to)}; small runs by insertion sort (also stable). */
    private static void sort(int[] rows, int[] scratch, int from, int to, RowOrder order) {
        if (to - from <= INSERTION) {
            for (int i = from + 1; i < to; i++) {
                int row = rows[i];
                int j = i - 1;
                while (j >= from && order.compare(rows[j], row) > 0) {
                    rows[j + 1] = rows[j];
                    j--;
                }
                rows[j + 1] = row;
            }
            return;
        }
        int mid = (from + to) >>> 1;
        sort(rows, scratch, from, mid, order);
        sort(rows, scratch, mid, to, order);
        if (order.compare(rows[mid - 1], rows[mid]) <= 0) return;
        System.arraycopy(rows, from, scratch, from, to - from);
        int i = from;
        int j = mid;
        for (int k = from; k < to; k++) {
            // a tie takes the left run's row first: that is what keeps the sort stable
            if (j >= to || (i < mid && order.compare(scratch[i], scratch[j]) <= 0)) rows[k] = scratch[i++];
            else rows[k] = scratch[j++];
        }
    }
}
