package dev.pipelab.plan;

import dev.pipelab.model.CostModel;
import dev.pipelab.model.DeviceSpec;
import dev.pipelab.model.ModelSpec;
import dev.pipelab.model.Optimizer;
import dev.pipelab.model.Partition;
import dev.pipelab.model.Recompute;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.schedule.Timeline;

import java.util.List;

/**
 * A scenario resolved into everything the evaluator and the runtime execute: catalog entries looked up,
 * layers partitioned, the schedule generated (with explicit recomputation), and one {@link StageCost} per
 * model stage. Invariant: {@code stageCosts.size() == schedule.stages() == partition.layersPerStage().size()}.
 *
 * @param name            the scenario's name
 * @param model           the model (preset merged with overrides)
 * @param device          the device type
 * @param placement       (p, d, t) on nodes and the links between them
 * @param network         the links between pipeline ranks (from the placement, or profiled p2p times)
 * @param virtualStages   v
 * @param microBatchSize  b
 * @param microBatches    m
 * @param sequenceParallel whether Megatron sequence parallelism is on
 * @param recompute       activation recomputation policy
 * @param optimizer       optimizer and its bytes per parameter
 * @param efficiency      fraction of peak FLOP/s achieved
 * @param partition       layers of each model stage
 * @param schedule        the schedule every replica runs
 * @param stageCosts      per model stage costs
 * @param linkBuffer      receiver buffer per link, or {@link Evaluator#UNBOUNDED}
 * @param steps           training steps the scenario runs
 * @param profiled        whether scenario {@code costs} replaced (part of) the cost model
 * @param memory          what memory counts: ZeRO stage, complete or article accounting, framework overhead
 * @param stageMemory     per model stage, the memory lines whose sums the stage costs carry
 */
public record Plan(String name, ModelSpec model, DeviceSpec device, Placement placement, Network network, int virtualStages,
                   int microBatchSize, int microBatches, boolean sequenceParallel, Recompute recompute,
                   Optimizer optimizer, double efficiency, Partition partition, Schedule schedule,
                   List<StageCost> stageCosts, int linkBuffer, int steps, boolean profiled, MemoryPolicy memory,
                   List<StageMemory> stageMemory) {

    public Plan {
        stageCosts = List.copyOf(stageCosts);
        stageMemory = List.copyOf(stageMemory);
        if (stageCosts.size() != schedule.stages() || partition.layersPerStage().size() != schedule.stages()
                || stageMemory.size() != schedule.stages()) {
            throw new IllegalArgumentException("expected " + schedule.stages() + " stages, got " + stageCosts.size()
                    + " costs, " + stageMemory.size() + " memory entries and " + partition.layersPerStage().size() + " partition entries");
        }
    }

    /**
     * What a checkpoint of the job holds: the model's weights, gradients and optimizer state once, whole (ZeRO shards
     * them over the replicas, whose shards together are one copy), over the t devices each stage spans.
     */
    public long checkpointBytes() {
        long bytes = 0;
        for (StageMemory m : stageMemory) bytes += m.modelStateBytes();
        return bytes * placement.tensor();
    }

    public int pipeline() { return placement.pipeline(); }

    public int data() { return placement.data(); }

    public int tensor() { return placement.tensor(); }

    public int devices() { return placement.devices(); }

    /** Sequences per step over all replicas: b · m · d. */
    public long globalBatch() {
        return (long) microBatchSize * microBatches * placement.data();
    }

    /** The cost model for this plan's shapes. */
    public CostModel costModel() {
        return new CostModel(model, microBatchSize, placement.tensor(), sequenceParallel);
    }

    /** Evaluates one step exactly. */
    public Timeline evaluate() {
        return Evaluator.evaluate(schedule, stageCosts, network, linkBuffer);
    }
}
