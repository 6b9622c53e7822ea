package dev.pipelab.pipeline;

import dev.pipelab.fault.RecoverySpec;
import dev.pipelab.monitoring.Event;
import dev.pipelab.protocol.Payload;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The training steps that count and the arithmetic of recovering from a failure (docs/faults.md), pure: the
 * {@link Trainer}'s partner. Invariant: the lineage holds training steps {@code 0..n-1}, each committed once with
 * exactly m offsets per replica, no offset twice, every rank one optimizer step past the previous commit; a recovery
 * rolls it back to the last checkpoint, whose steps it keeps.
 */
final class Lineage {

    /** Where a recovery resumes (the checkpoint's training step), what it replays and loses, when training goes on. */
    record Rollback(int resumeAt, int replayedSteps, double lostWorkSeconds, double recoveredAtSeconds) {}

    private final int microBatches;
    private final RecoverySpec spec;
    /** Step time of each committed training step of the lineage. */
    private final TreeMap<Integer, Double> stepSeconds = new TreeMap<>();
    /** The training step that consumed each offset of the lineage. */
    private final Map<Long, Integer> consumedBy = new HashMap<>();
    private final Map<Integer, Integer> failures = new TreeMap<>();
    /** The last checkpoint: the training steps it holds, its size, and each rank's state (real-numerics mode). */
    private int checkpointStep;
    private long checkpointBytes;
    private Map<Integer, List<Payload>> checkpointState = Map.of();
    private int recoveries;
    private int replayedSteps;
    private double lostWorkSeconds;
    private int checkpoints;
    private double checkpointSeconds;

    Lineage(int microBatches, RecoverySpec spec) {
        this.microBatches = microBatches;
        this.spec = spec;
    }

    /**
     * Commits {@code trainingStep}, which took {@code seconds}, with what each replica consumed; returns what does not
     * balance (the run must fail loudly), or "" when it does and the step joined the lineage.
     */
    String commit(int trainingStep, double seconds, List<Event.Consumed> consumed) {
        if (stepSeconds.containsKey(trainingStep)) return "ledger: training step " + trainingStep + " committed twice";
        if (trainingStep != stepSeconds.size()) {
            return "ledger: training step " + trainingStep + " committed after " + stepSeconds.size() + " steps";
        }
        for (Event.Consumed c : consumed) {
            for (int r = 0; r < c.optimizerSteps().size(); r++) {
                if (c.optimizerSteps().get(r) != 1) {
                    return "ledger: replica " + c.replica() + " rank " + r + " applied the optimizer " + c.optimizerSteps().get(r)
                            + " times for training step " + trainingStep;
                }
            }
            if (c.offsets().size() != microBatches) {
                return "ledger: replica " + c.replica() + " consumed " + c.offsets().size() + " micro-batches in training step "
                        + trainingStep;
            }
        }
        for (Event.Consumed c : consumed) {
            for (long o : c.offsets()) {
                Integer before = consumedBy.putIfAbsent(o, trainingStep);
                if (before != null) return "ledger: offset " + o + " consumed in training steps " + before + " and " + trainingStep;
            }
        }
        stepSeconds.put(trainingStep, seconds);
        return "";
    }

    /** Whether a checkpoint follows training step {@code trainingStep}. */
    boolean checkpointDue(int trainingStep) {
        int every = spec.checkpointEverySteps();
        return every > 0 && (trainingStep + 1) % every == 0;
    }

    /** A checkpoint of {@code bytes} after {@code trainingStep}; returns the seconds writing it takes. */
    double checkpointed(int trainingStep, Map<Integer, List<Payload>> state, long bytes) {
        double seconds = bytes / spec.storageBytesPerSecond();
        checkpointStep = trainingStep + 1;
        checkpointBytes = bytes;
        checkpointState = Map.copyOf(state);
        checkpoints++;
        checkpointSeconds += seconds;
        return seconds;
    }

    /** The training steps the last checkpoint holds (0: the run's start, which needs nothing read back). */
    int checkpointStep() {
        return checkpointStep;
    }

    /** Each rank's state in the last checkpoint (real-numerics mode; empty otherwise and for the run's start). */
    Map<Integer, List<Payload>> checkpointState() {
        return checkpointState;
    }

    /** Counts a failure of {@code trainingStep}; returns how many it has had. */
    int failed(int trainingStep) {
        return failures.merge(trainingStep, 1, Integer::sum);
    }

    /**
     * Recovers from a failure at {@code failedAt}, detected at {@code detectedAt}, of the attempt that began at
     * {@code attemptStart} (run axis): the lineage goes back to the last checkpoint, whose steps are replayed; training
     * goes on after the restart and reading the checkpoint back.
     */
    Rollback rollBack(double failedAt, double detectedAt, double attemptStart) {
        double lost = failedAt - attemptStart;
        int replayed = 0;
        for (double s : stepSeconds.tailMap(checkpointStep, true).values()) {
            lost += s;
            replayed++;
        }
        double recoveredAt = detectedAt + spec.restartSeconds() + checkpointBytes / spec.storageBytesPerSecond();
        stepSeconds.tailMap(checkpointStep, true).clear();
        consumedBy.values().removeIf(k -> k >= checkpointStep);
        recoveries++;
        replayedSteps += replayed;
        lostWorkSeconds += lost;
        return new Rollback(checkpointStep, replayed, lost, recoveredAt);
    }

    /** What faults cost the run, given its emulated {@code elapsedSeconds} and the duplicates its stages dropped. */
    RunResult.Recovery totals(double elapsedSeconds, long duplicatesDropped) {
        double useful = 0;
        for (double s : stepSeconds.values()) useful += s;
        return new RunResult.Recovery(recoveries, replayedSteps, lostWorkSeconds, useful, elapsedSeconds, duplicatesDropped,
                checkpoints, checkpointSeconds);
    }
}
