package dev.pipelab.pipeline;

import dev.pipelab.clock.ClockMode;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.stage.OomPolicy;

import java.time.Duration;

/**
 * How to run: the clock ({@code speed} = emulated seconds per wall second, used in wall mode), how many steps,
 * where telemetry goes (on the coordinator's node; each node's stages and links emit to their node's sink),
 * what an out-of-memory does, and a wall-time safety net that only guards against a bug (deadlocks are
 * detected by message counting, never by this timeout).
 */
public record RunOptions(ClockMode clock, double speed, int steps, EventSink sink, OomPolicy oom, Duration safetyTimeout) {

    public RunOptions {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (!(speed > 0) || Double.isInfinite(speed)) throw new IllegalArgumentException("speed must be finite and > 0, got " + speed);
        if (sink == null) throw new IllegalArgumentException("sink must be given (EventSink.NONE for none)");
        if (oom == null) throw new IllegalArgumentException("oom must be given");
    }

    /** Virtual time, {@code steps} steps, events to {@code sink}, OOM fails the run. */
    public static RunOptions virtual(int steps, EventSink sink) {
        return new RunOptions(ClockMode.VIRTUAL, 1.0, steps, sink, OomPolicy.FAIL, Duration.ofMinutes(10));
    }

    public RunOptions withOom(OomPolicy policy) {
        return new RunOptions(clock, speed, steps, sink, policy, safetyTimeout);
    }

    public RunOptions withWallClock(double speed) {
        return new RunOptions(ClockMode.WALL, speed, steps, sink, oom, safetyTimeout);
    }
}
