package dev.pipelab.stage;

import dev.pipelab.clock.ClockMode;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.protocol.CborSerializable;

import java.util.Optional;

/**
 * Everything a {@link Stage} needs, as data (it travels to the node that hosts the stage): which rank of which
 * replica it is, its row of the schedule with its stages' costs and its routing ({@link StageProgram.Data}), the
 * receiver buffer per link, the device memory and what to do when it overflows, the clock, in real-numerics mode the
 * real model ({@link RealSetup}), and how much of its own activity it records ({@code telemetry}). Invariant: the
 * replica is one of {@code replicas} and the buffer holds at least one message.
 */
public record StageSetup(int replica, int replicas, StageProgram.Data program, int linkBuffer,
                         long memoryBytes, OomPolicy oom, ClockMode clock, double speed, Optional<RealSetup> real,
                         TelemetryLevel telemetry) implements CborSerializable {

    /** Emulated mode, every span recorded. */
    public StageSetup(int replica, int replicas, StageProgram.Data program, int linkBuffer, long memoryBytes, OomPolicy oom,
                      ClockMode clock, double speed) {
        this(replica, replicas, program, linkBuffer, memoryBytes, oom, clock, speed, Optional.empty(), TelemetryLevel.SPANS);
    }

    public StageSetup {
        if (replica < 0 || replica >= replicas) throw new IllegalArgumentException("replica must be in [0, " + replicas + "), got " + replica);
        if (linkBuffer < 1) throw new IllegalArgumentException("linkBuffer must be >= 1, got " + linkBuffer);
        if (telemetry == null) throw new IllegalArgumentException("telemetry must be given");
    }

    public int rank() {
        return program.rank();
    }

    public String name() {
        return "stage-" + replica + "-" + rank();
    }
}
