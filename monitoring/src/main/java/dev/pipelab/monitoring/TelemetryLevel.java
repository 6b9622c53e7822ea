package dev.pipelab.monitoring;

import java.util.Locale;

/**
 * How much each actor records. Invariant: every level gives the same step summaries (they are computed from the sums
 * that every level keeps); {@link #SPANS} adds every action and transfer (the Gantt, the trace), {@link #OFF} records
 * nothing and emits no step records.
 */
public enum TelemetryLevel {
    /** Nothing recorded: the run's result only. */
    OFF,
    /** Per step, per rank and per link sums only: what a 16,384-GPU or weeks-long run needs. */
    STEPS,
    /** Every action, memory change, credit wait and transfer, as well as the sums. */
    SPANS;

    /** {@code off}, {@code steps} or {@code spans}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The level named {@code label} ({@code off}, {@code steps}, {@code spans}). */
    public static TelemetryLevel of(String label) {
        for (TelemetryLevel l : values()) if (l.label().equals(label)) return l;
        throw new IllegalArgumentException("telemetry level must be off, steps or spans, got '" + label + "'");
    }

    /** Whether spans are kept. */
    public boolean spans() {
        return this == SPANS;
    }
}
