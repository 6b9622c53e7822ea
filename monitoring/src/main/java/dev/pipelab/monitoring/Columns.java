package dev.pipelab.monitoring;

import java.util.Arrays;

/**
 * Freezing a recorder's column: the first {@code n} entries of a growable array become an immutable batch column,
 * shared with the previous batch's column when equal. Invariant: a returned array is never written again (recorders
 * only write their own growable arrays, which are never handed out). Doubles compare as {@link Double#equals} does
 * (by bits, every NaN alike), so a shared column reads back as recorded, bit for bit up to a NaN's payload.
 */
final class Columns {

    private Columns() {}

    static byte[] of(byte[] previous, byte[] recorded, int n) {
        if (previous != null && previous.length == n && Arrays.equals(previous, 0, n, recorded, 0, n)) return previous;
        return Arrays.copyOf(recorded, n);
    }

    static int[] of(int[] previous, int[] recorded, int n) {
        if (previous != null && previous.length == n && Arrays.equals(previous, 0, n, recorded, 0, n)) return previous;
        return Arrays.copyOf(recorded, n);
    }

    static long[] of(long[] previous, long[] recorded, int n) {
        if (previous != null && previous.length == n && Arrays.equals(previous, 0, n, recorded, 0, n)) return previous;
        return Arrays.copyOf(recorded, n);
    }

    static double[] of(double[] previous, double[] recorded, int n) {
        if (previous != null && previous.length == n && Arrays.equals(previous, 0, n, recorded, 0, n)) return previous;
        return Arrays.copyOf(recorded, n);
    }
}
