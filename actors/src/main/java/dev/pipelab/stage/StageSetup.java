package dev.pipelab.stage;

import dev.pipelab.clock.ClockMode;
import dev.pipelab.cluster.CborSerializable;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.StageCost;

import java.util.List;

/**
 * Everything a {@link Stage} needs, as data (it travels to the node that hosts the stage): which rank of which
 * replica it is, the schedule value it executes its row of, the stage costs, the receiver buffer per link, the
 * device memory and what to do when it overflows, and the clock.
 */
public record StageSetup(int replica, int replicas, int rank, Schedule schedule, List<StageCost> costs, int linkBuffer,
                         long memoryBytes, OomPolicy oom, ClockMode clock, double speed) implements CborSerializable {

    public StageSetup {
        costs = List.copyOf(costs);
        if (replica < 0 || replica >= replicas) throw new IllegalArgumentException("replica must be in [0, " + replicas + "), got " + replica);
        if (rank < 0 || rank >= schedule.ranks()) throw new IllegalArgumentException("rank must be in [0, " + schedule.ranks() + "), got " + rank);
        if (linkBuffer < 1) throw new IllegalArgumentException("linkBuffer must be >= 1, got " + linkBuffer);
    }

    public String name() {
        return "stage-" + replica + "-" + rank;
    }
}
