package dev.pipelab.pipeline;

import dev.pipelab.clock.ClockMode;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.stage.OomPolicy;

import dev.pipelab.fault.Fault;
import dev.pipelab.fault.FaultInbox;
import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RecoverySpec;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * How to run: the clock ({@code speed} = emulated seconds per wall second, used in wall mode), how many steps,
 * where telemetry goes and how much of it each actor records ({@code telemetry}; {@link TelemetryLevel#OFF} with
 * {@link EventSink#NONE}),
 * what an out-of-memory does, and a wall-time safety net that only guards against a bug (deadlocks are
 * detected by message counting, never by this timeout).
 */
public record RunOptions(ClockMode clock, double speed, int steps, EventSink sink, TelemetryLevel telemetry, OomPolicy oom,
                         Duration safetyTimeout, List<Fault> faults, RecoverySpec recovery, FaultInbox liveFaults,
                         Optional<RandomRun> randomFaults) {

    /** Without faults, and no checkpoints. */
    public RunOptions(ClockMode clock, double speed, int steps, EventSink sink, TelemetryLevel telemetry, OomPolicy oom,
                      Duration safetyTimeout) {
        this(clock, speed, steps, sink, telemetry, oom, safetyTimeout, List.of(), RecoverySpec.NONE, FaultInbox.NONE, Optional.empty());
    }

    public RunOptions {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (!(speed > 0) || Double.isInfinite(speed)) throw new IllegalArgumentException("speed must be finite and > 0, got " + speed);
        if (sink == null) throw new IllegalArgumentException("sink must be given (EventSink.NONE for none)");
        if (telemetry == null) throw new IllegalArgumentException("telemetry must be given");
        if (oom == null) throw new IllegalArgumentException("oom must be given");
        faults = List.copyOf(faults);
        if (recovery == null) throw new IllegalArgumentException("recovery must be given (RecoverySpec.NONE for none)");
        if (liveFaults == null) throw new IllegalArgumentException("liveFaults must be given (FaultInbox.NONE for none)");
        if (randomFaults == null) throw new IllegalArgumentException("randomFaults must be given (Optional.empty() for none)");
    }

    /** As given, with every span recorded unless {@code sink} is {@link EventSink#NONE}. */
    public RunOptions(ClockMode clock, double speed, int steps, EventSink sink, OomPolicy oom, Duration safetyTimeout) {
        this(clock, speed, steps, sink, sink == EventSink.NONE ? TelemetryLevel.OFF : TelemetryLevel.SPANS, oom, safetyTimeout);
    }

    /** Virtual time, {@code steps} steps, events to {@code sink} (every span), OOM fails the run. */
    public static RunOptions virtual(int steps, EventSink sink) {
        return new RunOptions(ClockMode.VIRTUAL, 1.0, steps, sink, OomPolicy.FAIL, Duration.ofMinutes(10));
    }

    public RunOptions withTelemetry(TelemetryLevel level) {
        return new RunOptions(clock, speed, steps, sink, level, oom, safetyTimeout, faults, recovery, liveFaults, randomFaults);
    }

    public RunOptions withOom(OomPolicy policy) {
        return new RunOptions(clock, speed, steps, sink, telemetry, policy, safetyTimeout, faults, recovery, liveFaults, randomFaults);
    }

    /** The same run with {@code faults} injected (targets concrete: choices resolved) and {@code recovery}. */
    public RunOptions withFaults(List<Fault> faults, RecoverySpec recovery) {
        return new RunOptions(clock, speed, steps, sink, telemetry, oom, safetyTimeout, faults, recovery, liveFaults, randomFaults);
    }

    /**
     * Interruptions at {@code rates} for a job whose stages span {@code tensor} devices, {@code devicesPerNode} to a node
     * (what the rates' devices and nodes are).
     */
    public record RandomRun(RandomFaults rates, int tensor, int devicesPerNode) {}

    /** The same run interrupted at the rates of {@code random} (scenario {@code faults.random}; docs/faults.md). */
    public RunOptions withRandomFaults(RandomFaults rates, int tensor, int devicesPerNode) {
        return new RunOptions(clock, speed, steps, sink, telemetry, oom, safetyTimeout, faults, recovery, liveFaults,
                Optional.of(new RandomRun(rates, tensor, devicesPerNode)));
    }

    /** The same run taking faults added to {@code inbox} while it runs (each from the next attempt's start). */
    public RunOptions withLiveFaults(FaultInbox inbox) {
        return new RunOptions(clock, speed, steps, sink, telemetry, oom, safetyTimeout, faults, recovery, inbox, randomFaults);
    }

    public RunOptions withWallClock(double speed) {
        return new RunOptions(ClockMode.WALL, speed, steps, sink, telemetry, oom, safetyTimeout, faults, recovery, liveFaults, randomFaults);
    }
}
