package dev.pipelab.pipeline;

import dev.pipelab.plan.Plan;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.StageCost;

import dev.pipelab.stage.RealSetup;

import java.util.List;
import java.util.Optional;

/**
 * What a run executes, reduced from a {@link Plan} to what the runtime reads: the schedule every replica runs,
 * one cost per model stage, the pipeline's links, the receiver buffer per link, the data-parallel degree and
 * the device memory, and the tensor-parallel degree (the devices a stage spans). Invariant: {@code costs.size() == schedule.stages()}, {@code replicas >= 1}.
 */
public record RunSpec(Schedule schedule, List<StageCost> costs, Network network, int linkBuffer, int replicas, long memoryBytes,
                      Optional<RealSetup> real, int tensor, long checkpointBytes) {

    /**
     * A checkpoint of the stages' static bytes over the {@code tensor} devices each stage spans: right for costs that
     * hold parameters, gradients and optimizer state only and whole (no ZeRO sharding, no buffers or overhead).
     */
    public RunSpec(Schedule schedule, List<StageCost> costs, Network network, int linkBuffer, int replicas, long memoryBytes,
                   Optional<RealSetup> real, int tensor) {
        this(schedule, costs, network, linkBuffer, replicas, memoryBytes, real, tensor, staticBytes(costs) * tensor);
    }

    /** A stage on one device (tensor parallelism 1). */
    public RunSpec(Schedule schedule, List<StageCost> costs, Network network, int linkBuffer, int replicas, long memoryBytes,
                   Optional<RealSetup> real) {
        this(schedule, costs, network, linkBuffer, replicas, memoryBytes, real, 1);
    }

    /** Emulated mode. */
    public RunSpec(Schedule schedule, List<StageCost> costs, Network network, int linkBuffer, int replicas, long memoryBytes) {
        this(schedule, costs, network, linkBuffer, replicas, memoryBytes, Optional.empty());
    }

    /** The same run in real-numerics mode. */
    public RunSpec withReal(RealSetup setup) {
        return new RunSpec(schedule, costs, network, linkBuffer, replicas, memoryBytes, Optional.of(setup), tensor, checkpointBytes);
    }

    public RunSpec {
        costs = List.copyOf(costs);
        if (costs.size() != schedule.stages()) {
            throw new IllegalArgumentException("expected " + schedule.stages() + " stage costs, got " + costs.size());
        }
        if (replicas < 1) throw new IllegalArgumentException("replicas must be >= 1, got " + replicas);
        if (tensor < 1) throw new IllegalArgumentException("tensor must be >= 1, got " + tensor);
        if (linkBuffer < 1) throw new IllegalArgumentException("linkBuffer must be >= 1, got " + linkBuffer);
        if (memoryBytes < 1) throw new IllegalArgumentException("memoryBytes must be >= 1, got " + memoryBytes);
        if (checkpointBytes < 0) throw new IllegalArgumentException("checkpointBytes must be >= 0, got " + checkpointBytes);
        if (real.isPresent()) {
            int stages = schedule.stages();
            if (stages > real.get().model().layers()) {
                throw new IllegalArgumentException("real model has " + real.get().model().layers() + " layers, the schedule "
                        + stages + " model stages (p·v)");
            }
            for (StageCost c : costs) {
                int steps = c.allReduce().steps();
                if (steps != (replicas > 1 ? 2 * (replicas - 1) : 0)) {
                    throw new IllegalArgumentException("real numerics needs the ring all-reduce's 2(d-1) = " + 2 * (replicas - 1)
                            + " messages per stage, a stage cost has " + steps);
                }
            }
        }
    }

    private static long staticBytes(List<StageCost> costs) {
        long bytes = 0;
        for (StageCost c : costs) bytes += c.staticBytes();
        return bytes;
    }

    /**
     * The plan's run; its checkpoint holds the model's parameters, gradients and optimizer state once and whole
     * ({@link Plan#checkpointBytes}; docs/faults.md, Recovery: the replicas hold the same model, so one copy is written).
     */
    public static RunSpec of(Plan plan) {
        return new RunSpec(plan.schedule(), plan.stageCosts(), plan.network(), plan.linkBuffer(), plan.data(),
                plan.device().memoryBytes(), Optional.empty(), plan.tensor(), plan.checkpointBytes());
    }
}
