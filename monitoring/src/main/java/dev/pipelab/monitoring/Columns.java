package dev.pipelab.monitoring;

import java.util.Arrays;

/**
 * Freezing a range of a producer's own column (an array it keeps and rewrites, such as a rank's start times) into an
 * immutable batch column, shared with the previous batch's column when equal. Invariant: a returned array is either
 * the previous batch's column or a fresh copy; the producer's array is never handed out. Doubles compare as
 * {@link Double#equals} does (by bits, every NaN alike).
 */
final class Columns {

    private Columns() {}

    static byte[] share(byte[] previous, byte[] column, int from, int to) {
        if (previous != null && previous.length == to - from && Arrays.equals(previous, 0, to - from, column, from, to)) {
            return previous;
        }
        return Arrays.copyOfRange(column, from, to);
    }

    static int[] share(int[] previous, int[] column, int from, int to) {
        if (previous != null && previous.length == to - from && Arrays.equals(previous, 0, to - from, column, from, to)) {
            return previous;
        }
        return Arrays.copyOfRange(column, from, to);
    }

    static long[] share(long[] previous, long[] column, int from, int to) {
        if (previous != null && previous.length == to - from && Arrays.equals(previous, 0, to - from, column, from, to)) {
            return previous;
        }
        return Arrays.copyOfRange(column, from, to);
    }

    static double[] share(double[] previous, double[] column, int from, int to) {
        if (previous != null && previous.length == to - from && Arrays.equals(previous, 0, to - from, column, from, to)) {
            return previous;
        }
        return Arrays.copyOfRange(column, from, to);
    }

    /** Fails unless every column length equals {@code length}. */
    static void sameLength(int length, int... lengths) {
        for (int l : lengths) {
            if (l != length) throw new IllegalArgumentException("columns must have the same length");
        }
    }
}
