package dev.pipelab.cli;

import dev.pipelab.monitoring.Units;

import java.util.Locale;

/** Human-readable numbers: decimal units (GB = 1e9 bytes, as the article and vendors count), fixed locale. */
final class Format {

    private Format() {}

    static String bytes(double bytes) {
        double a = Math.abs(bytes);
        if (a >= 1e12) return String.format(Locale.ROOT, "%,.2f TB", bytes / 1e12);
        if (a >= 1e9) return String.format(Locale.ROOT, "%,.1f GB", bytes / 1e9);
        if (a >= 1e6) return String.format(Locale.ROOT, "%,.1f MB", bytes / 1e6);
        if (a >= 1e3) return String.format(Locale.ROOT, "%,.1f kB", bytes / 1e3);
        return String.format(Locale.ROOT, "%,.0f B", bytes);
    }

    static String gb(double bytes) {
        return String.format(Locale.ROOT, "%,.1f GB", bytes / 1e9);
    }

    static String seconds(double s) {
        return Units.seconds(s);
    }

    static String flops(double f) {
        if (f >= 1e15) return String.format(Locale.ROOT, "%,.1f PFLOP", f / 1e15);
        if (f >= 1e12) return String.format(Locale.ROOT, "%,.1f TFLOP", f / 1e12);
        if (f >= 1e9) return String.format(Locale.ROOT, "%,.1f GFLOP", f / 1e9);
        return String.format(Locale.ROOT, "%,.0f FLOP", f);
    }

    static String rate(double flopsPerSecond) {
        return String.format(Locale.ROOT, "%,.0f TFLOP/s", flopsPerSecond / 1e12);
    }

    static String bandwidth(double bytesPerSecond) {
        if (Double.isInfinite(bytesPerSecond)) return "free";
        return String.format(Locale.ROOT, "%,.1f GB/s", bytesPerSecond / 1e9);
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.2f%%", fraction * 100);
    }

    /** A count in engineering notation above a million ({@code 70.00e9}), else with separators. */
    static String count(double x) {
        if (Math.abs(x) < 1e6) return String.format(Locale.ROOT, "%,.1f", x);
        int exponent = (int) Math.floor(Math.log10(Math.abs(x)) / 3) * 3;
        return String.format(Locale.ROOT, "%.2fe%d", x / Math.pow(10, exponent), exponent);
    }

    /** " (= p/q)" when x is exactly the double nearest a fraction with a small denominator, else "". */
    static String fraction(double x) {
        for (int q = 1; q <= 4096; q++) {
            long p = Math.round(x * q);
            if ((double) p / q == x) return " (= " + p + "/" + q + ")";
        }
        return "";
    }
}
