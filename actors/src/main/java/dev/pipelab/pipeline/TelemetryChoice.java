package dev.pipelab.pipeline;

import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.schedule.Schedule;

import java.util.Locale;

/**
 * The telemetry level a run records at, and why. Invariant: {@code auto} picks {@link TelemetryLevel#SPANS} when a
 * step makes at most {@link #AUTO_SPANS_PER_STEP} spans and {@link TelemetryLevel#STEPS} above; an explicit level is
 * taken as given.
 *
 * <p>Why that bound: the spans of a step are counted as d·(actions of all ranks), the compute spans every replica
 * records (p·d·actions per rank); transfers add about as many again. Each span is an object that every record of the
 * step, its summary and the trace hold until the step is written, so spans cost memory and time per step in
 * proportion to the run's size, while steps cost per rank and link. At 200,000 spans a step's records stay in the
 * tens of megabytes and a trace of a few steps is still one a browser opens; the runs that need more (thousands of
 * devices, weeks of steps) are those whose every span nobody reads, so they keep the sums.
 *
 * @param reason one line for the run's first output, saying which level and why
 */
public record TelemetryChoice(TelemetryLevel level, String reason) {

    /** The most spans per step for which {@code auto} keeps every span. */
    public static final long AUTO_SPANS_PER_STEP = 200_000;

    /** The labels a user may give: {@code auto}, {@code off}, {@code steps}, {@code spans}. */
    public static final String LABELS = "auto, off, steps, spans";

    /**
     * The level for {@code requested} ({@code auto}, {@code off}, {@code steps} or {@code spans}) on a run of
     * {@code schedule} with {@code replicas} data-parallel replicas.
     *
     * @param origin where the request came from, for the reason ("scenario", "--telemetry")
     */
    public static TelemetryChoice of(String requested, String origin, Schedule schedule, int replicas) {
        if (!requested.equals("auto")) {
            TelemetryLevel level = TelemetryLevel.of(requested);
            return new TelemetryChoice(level, "telemetry " + level.label() + " (" + origin + ")");
        }
        long spans = spansPerStep(schedule, replicas);
        TelemetryLevel level = spans <= AUTO_SPANS_PER_STEP ? TelemetryLevel.SPANS : TelemetryLevel.STEPS;
        return new TelemetryChoice(level, String.format(Locale.ROOT, "telemetry %s (auto: %,d spans per step, %s %,d)",
                level.label(), spans, level == TelemetryLevel.SPANS ? "at most" : "more than", AUTO_SPANS_PER_STEP));
    }

    /** The compute spans of one step: every action of every rank, and each rank's optimizer, in every replica. */
    public static long spansPerStep(Schedule schedule, int replicas) {
        long perReplica = schedule.ranks();
        for (int r = 0; r < schedule.ranks(); r++) perReplica += schedule.actions(r).size();
        return perReplica * replicas;
    }
}
