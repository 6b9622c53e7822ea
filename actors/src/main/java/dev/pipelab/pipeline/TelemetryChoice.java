package dev.pipelab.pipeline;

import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.schedule.Schedule;

import java.util.Locale;

/**
 * The telemetry level a run records at, and why. Invariant: {@code auto} picks {@link TelemetryLevel#SPANS} when the
 * whole run makes at most {@link #AUTO_SPANS_PER_RUN} compute spans and {@link TelemetryLevel#STEPS} above; an explicit
 * level is taken as given.
 *
 * <p>Why a bound on the run, not the step: every span is an object that the run keeps until its trace is written, so
 * the price of {@code spans} grows with the spans a run has made so far. Measured with {@code pipelab bench runtime}
 * (docs/benchmarks.md): at about a million spans per run the emulation keeps most of its speed, at ten million it loses
 * about 40% to the garbage collector. A trace of a million compute spans (with its transfers and memory counters, some
 * three million events) is also about as much as a trace viewer opens comfortably. Runs past that (thousands of devices,
 * weeks of steps) are those whose every span nobody reads: they keep the sums.
 *
 * @param reason one line for the run's first output, saying which level and why
 */
public record TelemetryChoice(TelemetryLevel level, String reason) {

    /** The most compute spans in a run for which {@code auto} keeps every span. */
    public static final long AUTO_SPANS_PER_RUN = 1_000_000;

    /** The labels a user may give: {@code auto}, {@code off}, {@code steps}, {@code spans}. */
    public static final String LABELS = "auto, off, steps, spans";

    /**
     * The level for {@code requested} ({@code auto}, {@code off}, {@code steps} or {@code spans}) on a run of
     * {@code steps} steps of {@code schedule} with {@code replicas} data-parallel replicas.
     *
     * @param origin where the request came from, for the reason ("scenario", "--telemetry")
     */
    public static TelemetryChoice of(String requested, String origin, Schedule schedule, int replicas, int steps) {
        if (!requested.equals("auto")) {
            TelemetryLevel level = TelemetryLevel.of(requested);
            return new TelemetryChoice(level, "telemetry " + level.label() + " (" + origin + ")");
        }
        long spans = spansPerStep(schedule, replicas) * steps;
        TelemetryLevel level = spans <= AUTO_SPANS_PER_RUN ? TelemetryLevel.SPANS : TelemetryLevel.STEPS;
        return new TelemetryChoice(level, String.format(Locale.ROOT, "telemetry %s (auto: %,d compute spans in %,d steps, %s %,d)",
                level.label(), spans, steps, level == TelemetryLevel.SPANS ? "at most" : "more than", AUTO_SPANS_PER_RUN));
    }

    /** The compute spans of one step: every action of every rank, and each rank's optimizer, in every replica. */
    public static long spansPerStep(Schedule schedule, int replicas) {
        long perReplica = schedule.ranks();
        for (int r = 0; r < schedule.ranks(); r++) perReplica += schedule.actions(r).size();
        return perReplica * replicas;
    }
}
