package dev.pipelab.monitoring.util;

import java.util.Arrays;

/**
 * The waits of transfers queued on one link of one replica in one step: for each, when its payload was ready and
 * when it left, as two primitive columns. Why columns: a step's transfers arrive in several batches in wall-clock
 * runs, so the deepest queue is known only at step end, and keeping a {@code double[]} pair per transfer until then
 * would be an object per span. Invariant: not thread-safe (its owner's lock guards it); every wait has
 * {@code start > ready}.
 */
public final class QueueWaits {

    private double[] ready = new double[8];
    private double[] start = new double[8];
    private int size;

    /** A transfer that was ready at {@code readyAt} and left at {@code startAt} (later). */
    public void add(double readyAt, double startAt) {
        if (size == ready.length) {
            ready = Arrays.copyOf(ready, size * 2);
            start = Arrays.copyOf(start, size * 2);
        }
        ready[size] = readyAt;
        start[size] = startAt;
        size++;
    }

    public int size() {
        return size;
    }

    /**
     * The most waits open at once; a wait that ends where another begins does not stack on it. Sorts the two columns
     * apart, which loses which start belongs to which ready: call it once, when the step has ended.
     *
     * <p>Why sorting the columns apart is exact: the depth at a time counts readies at or before it minus starts at or
     * before it, so only the two sorted sequences matter; and since every start follows its own ready, the i-th
     * smallest start follows the i-th smallest ready, so the sweep never takes more starts than readies.
     */
    public int maxDepth() {
        Arrays.sort(ready, 0, size);
        Arrays.sort(start, 0, size);
        int depth = 0;
        int max = 0;
        int j = 0;
        for (int i = 0; i < size; ) {
            if (start[j] <= ready[i]) { // ties: the wait that ends leaves before the one that begins joins
                depth--;
                j++;
            } else {
                depth++;
                i++;
                if (depth > max) max = depth;
            }
        }
        return max;
    }
}
