package dev.pipelab.pipeline;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Hands replica {@code replica} its micro-batches, by sample offset {@code step·m·d + replica·m + mb}, and commits
 * them when the step completes. Invariant: a step commits only if it consumed exactly its m offsets, each once;
 * offsets commit in step order (Kafka-style: a replayed step resumes from the last committed offset).
 */
public final class DataLoader {

    private final int replica;
    private final int replicas;
    private final int microBatches;
    private int committedSteps;

    public DataLoader(int replica, int replicas, int microBatches) {
        this.replica = replica;
        this.replicas = replicas;
        this.microBatches = microBatches;
    }

    /** The offsets of step {@code step}, by micro-batch. */
    public List<Long> offsets(int step) {
        List<Long> out = new ArrayList<>(microBatches);
        long base = (long) step * microBatches * replicas + (long) replica * microBatches;
        for (int mb = 0; mb < microBatches; mb++) out.add(base + mb);
        return out;
    }

    /**
     * Commits step {@code step} given the offsets consumed; returns an empty string, or what was wrong.
     */
    public String commit(int step, List<Long> consumed) {
        if (step != committedSteps) return "replica " + replica + ": step " + step + " completed but " + committedSteps + " is the next to commit";
        Set<Long> expected = new HashSet<>(offsets(step));
        Set<Long> seen = new HashSet<>();
        for (long o : consumed) {
            if (!seen.add(o)) return "replica " + replica + " step " + step + ": offset " + o + " consumed twice";
            if (!expected.contains(o)) return "replica " + replica + " step " + step + ": offset " + o + " is not one of this step's";
        }
        if (seen.size() != microBatches) {
            return "replica " + replica + " step " + step + ": consumed " + seen.size() + " micro-batches, expected " + microBatches;
        }
        committedSteps++;
        return "";
    }

    /**
     * Forgets the commits of steps {@code step} and after: a recovery restored the model of the checkpoint taken after
     * {@code step - 1}, so those steps are consumed again (their offsets are the same: they depend only on the step).
     */
    public void rewind(int step) {
        if (step < 0 || step > committedSteps) throw new IllegalArgumentException("cannot rewind to step " + step + " with " + committedSteps + " committed");
        committedSteps = step;
    }

    /** Steps committed so far. */
    public int committedSteps() {
        return committedSteps;
    }
}
