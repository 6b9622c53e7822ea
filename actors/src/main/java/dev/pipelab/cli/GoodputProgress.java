package dev.pipelab.cli;

import dev.pipelab.goodput.Goodput;
import dev.pipelab.monitoring.Units;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The progress bar of {@code pipelab goodput} on stderr: how far the emulations are together, and an ETA from the
 * wall time so far. At most one line every half second, and nothing in the first half second, so a short emulation
 * prints none; on a terminal the line is redrawn in place, elsewhere each is a line of its own.
 */
final class GoodputProgress {

    private static final long EVERY_NANOS = 500_000_000L;
    private static final int BAR = 30;

    private final PrintWriter err;
    private final boolean inPlace;
    private final LongSupplier nanos;
    private final long start;
    private final int runs;
    private long last;
    private boolean drawn;

    GoodputProgress(PrintWriter err, boolean inPlace, int runs, LongSupplier nanos) {
        this.err = err;
        this.inPlace = inPlace;
        this.nanos = nanos;
        this.runs = runs;
        this.start = nanos.getAsLong();
        this.last = start;
    }

    /** The listener for emulation {@code run} (0-based) of {@code in}. */
    Goodput.Progress run(int run, Goodput.Input in) {
        return (seconds, committed) -> {
            double done = 0;
            if (in.maxSteps() != Long.MAX_VALUE) done = (double) committed / in.maxSteps();
            if (Double.isFinite(in.horizonSeconds())) done = Math.max(done, seconds / in.horizonSeconds());
            at((run + Math.min(1, done)) / runs, run);
        };
    }

    /** Shows {@code fraction} (0..1) of the whole work done, during emulation {@code run}. */
    void at(double fraction, int run) {
        long now = nanos.getAsLong();
        if (now - last < EVERY_NANOS) return;
        last = now;
        err.print(line(fraction, run, (now - start) / 1e9));
        err.print(inPlace ? "\r" : "\n");
        err.flush();
        drawn = true;
    }

    /** Clears the bar on a terminal (the summary follows on stdout). */
    void done() {
        if (drawn && inPlace) {
            err.print(" ".repeat(BAR + 60) + "\r");
            err.flush();
        }
    }

    String line(double fraction, int run, double wallSeconds) {
        int filled = (int) Math.round(Math.max(0, Math.min(1, fraction)) * BAR);
        String eta = fraction > 0 ? "ETA " + Units.duration(wallSeconds * (1 - fraction) / fraction) : "ETA ?";
        return String.format(Locale.ROOT, "goodput [%s%s] %5.1f%%  run %d/%d  %s", "#".repeat(filled), ".".repeat(BAR - filled),
                fraction * 100, run + 1, runs, eta);
    }
}
