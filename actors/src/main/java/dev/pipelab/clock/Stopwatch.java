package dev.pipelab.clock;

import java.util.function.Supplier;

/**
 * Measures the wall time of real work (real-numerics mode: the duration of an action is the time its
 * computation took). Invariant: the only reader of {@code System.nanoTime} outside the clocks, so that "all
 * time from the one clock package" still holds for the runtime.
 */
public final class Stopwatch {

    /** A measured result and the seconds it took. */
    public record Timed<T>(T value, double seconds) {}

    private Stopwatch() {}

    /** Runs {@code work} and returns its wall seconds (monotonic, nanosecond resolution). */
    public static double seconds(Runnable work) {
        long t0 = System.nanoTime();
        work.run();
        return (System.nanoTime() - t0) * 1e-9;
    }

    /** Runs {@code work} and returns its value with the wall seconds it took. */
    public static <T> Timed<T> time(Supplier<T> work) {
        long t0 = System.nanoTime();
        T v = work.get();
        return new Timed<>(v, (System.nanoTime() - t0) * 1e-9);
    }

    /** A wall reading in nanoseconds for benchmarks that time whole runs (differences only). */
    public static long ticks() {
        return System.nanoTime();
    }
}
