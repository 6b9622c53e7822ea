package dev.pipelab.plan;

import java.util.Locale;

/** One parallelism plan that {@link Search} tries. Invariant: all counts ≥ 1. */
public record Candidate(int tensor, int pipeline, int data, int virtualStages, int microBatchSize, int microBatches,
                        String schedule, String recompute, boolean sequenceParallel, String partition) {

    public Candidate {
        if (tensor < 1 || pipeline < 1 || data < 1 || virtualStages < 1 || microBatchSize < 1 || microBatches < 1) {
            throw new IllegalArgumentException("every count must be >= 1: " + this);
        }
    }

    public String label() {
        return String.format(Locale.ROOT, "t=%d%s p=%d d=%d v=%d b=%d m=%d %s %s%s", tensor, sequenceParallel ? "+sp" : "",
                pipeline, data, virtualStages, microBatchSize, microBatches, schedule, recompute,
                partition.equals("uniform") ? "" : " " + partition);
    }
}
