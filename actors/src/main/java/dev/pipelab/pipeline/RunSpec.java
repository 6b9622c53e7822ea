package dev.pipelab.pipeline;

import dev.pipelab.plan.Plan;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.StageCost;

import java.util.List;

/**
 * What a run executes, reduced from a {@link Plan} to what the runtime reads: the schedule every replica runs,
 * one cost per model stage, the pipeline's links, the receiver buffer per link, the data-parallel degree and
 * the device memory. Invariant: {@code costs.size() == schedule.stages()}, {@code replicas >= 1}.
 */
public record RunSpec(Schedule schedule, List<StageCost> costs, Network network, int linkBuffer, int replicas, long memoryBytes) {

    public RunSpec {
        costs = List.copyOf(costs);
        if (costs.size() != schedule.stages()) {
            throw new IllegalArgumentException("expected " + schedule.stages() + " stage costs, got " + costs.size());
        }
        if (replicas < 1) throw new IllegalArgumentException("replicas must be >= 1, got " + replicas);
        if (linkBuffer < 1) throw new IllegalArgumentException("linkBuffer must be >= 1, got " + linkBuffer);
        if (memoryBytes < 1) throw new IllegalArgumentException("memoryBytes must be >= 1, got " + memoryBytes);
    }

    public static RunSpec of(Plan plan) {
        return new RunSpec(plan.schedule(), plan.stageCosts(), plan.network(), plan.linkBuffer(), plan.data(),
                plan.device().memoryBytes());
    }
}
