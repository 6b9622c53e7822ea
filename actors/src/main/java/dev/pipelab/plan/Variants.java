package dev.pipelab.plan;

import dev.pipelab.scenario.Scenario;

import java.util.Optional;

/** Copies of a scenario with a different parallelism plan, for {@link Search}. */
final class Variants {

    private Variants() {}

    /**
     * The scenario with (t, p, d, v, b, m, schedule, recompute) replaced; its ZeRO stage and memory accounting kept. Explicit layer placement and
     * profiled costs are dropped: they fix the stage count, and search re-partitions uniformly with the cost model.
     */
    static Scenario with(Scenario s, Candidate c) {
        Scenario.Parallelism newPar = new Scenario.Parallelism(c.pipeline(), c.data(), c.tensor(), c.virtualStages(),
                c.sequenceParallel(), c.partition(), Optional.empty(), s.parallelism().zero());
        Scenario.Training tr = s.training();
        Scenario.Training newTr = new Scenario.Training(c.schedule(), c.recompute(), tr.optimizer(), tr.steps(),
                tr.linkBuffer(), Optional.empty(), tr.onOutOfMemory(), "emulated", tr.memory());
        return new Scenario(s.name(), s.model(), s.hardware(), newPar, new Scenario.Batch(c.microBatchSize(), c.microBatches()),
                newTr, Optional.empty(), s.seed());
    }
}
