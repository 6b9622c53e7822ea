package dev.pipelab.monitoring;

import java.util.Locale;

/**
 * Human-readable numbers for the terminal views. Invariant: output does not depend on the JVM's locale (always
 * {@link Locale#ROOT}: '.' decimals, ',' thousands) and uses decimal units (GB = 1e9 bytes), as the CLI does.
 */
public final class Units {

    private Units() {}

    /** {@code 1.234 s}, {@code 12.500 ms}, {@code 3.000 µs}, {@code 0 s}: the one seconds format of every view. */
    public static String seconds(double s) {
        double a = Math.abs(s);
        if (a == 0) return "0 s";
        if (a >= 100) return String.format(Locale.ROOT, "%,.1f s", s);
        if (a >= 1) return String.format(Locale.ROOT, "%.3f s", s);
        if (a >= 1e-3) return String.format(Locale.ROOT, "%.3f ms", s * 1e3);
        return String.format(Locale.ROOT, "%.3f µs", s * 1e6);
    }

    /** A wall duration for an ETA: {@code 4.1 s}, {@code 3 m 05 s}, {@code 2 h 03 m}. */
    public static String duration(double s) {
        if (s < 60) return String.format(Locale.ROOT, "%.1f s", s);
        long whole = Math.round(s);
        if (whole < 3600) return String.format(Locale.ROOT, "%d m %02d s", whole / 60, whole % 60);
        return String.format(Locale.ROOT, "%d h %02d m", whole / 3600, (whole % 3600) / 60);
    }

    /** {@code 72.7%}. */
    public static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.1f%%", fraction * 100);
    }

    /** {@code 1,234} (rounded to a whole number). */
    public static String count(double x) {
        return String.format(Locale.ROOT, "%,.0f", x);
    }

    /** {@code 12.34} gigabytes (1e9 bytes), no unit. */
    public static String gigabytes(long bytes) {
        return String.format(Locale.ROOT, "%,.2f", bytes / 1e9);
    }
}
