package dev.pipelab.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A progress line with an ETA for a long command ({@code search}, {@code sweep}), on stderr so that stdout stays the
 * result: silent for the first {@link #QUIET_SECONDS}, then rewritten in place ({@code \r}) at most twice a second.
 * The ETA assumes the remaining work goes at the mean pace so far. Thread-safe: a parallel search reports from
 * several threads.
 */
final class Progress {

    /** A command that finishes within this many seconds prints no progress. */
    static final double QUIET_SECONDS = 2;

    private final PrintWriter err;
    private final String what;
    private final long start = System.nanoTime();
    private long lastPrint;
    private boolean printed;

    Progress(PrintWriter err, String what) {
        this.err = err;
        this.what = what;
    }

    /** {@code done} of {@code total} units of work are done. */
    synchronized void update(long done, long total) {
        long now = System.nanoTime();
        double elapsed = (now - start) / 1e9;
        if (elapsed < QUIET_SECONDS || now - lastPrint < 500_000_000L || done <= 0) return;
        lastPrint = now;
        printed = true;
        double eta = elapsed / done * (total - done);
        err.printf(Locale.ROOT, "\r%s %,d/%,d  %.0f s  ETA %.0f s   ", what, done, total, elapsed, eta);
        err.flush();
    }

    /** Ends the line, if one was printed. */
    synchronized void finish() {
        if (printed) {
            err.println();
            err.flush();
        }
    }
}
