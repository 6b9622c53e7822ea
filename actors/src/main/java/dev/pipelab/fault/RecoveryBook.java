package dev.pipelab.fault;

import java.util.Arrays;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * The recovery cost model (docs/faults.md), shared by the actor runtime's trainer and {@code pipelab goodput}, so that
 * both put exactly the same seconds on the run's axis: the training steps that count and what each took, the last
 * checkpoint, and what a failure costs. A failure at {@code failedAt} is noticed {@code detectSeconds} later; when the
 * failed node leaves the job for repair ({@code repairSeconds > 0}) a spare node must take its place (the restart
 * waits for the first spare free, and the repaired node becomes a spare when it is back; without spares it waits for
 * the repair); then the job restarts ({@code recovery.restartSeconds}) and reads the last checkpoint back over the
 * storage bandwidth. The work lost is the failed attempt's time so far plus every step since the checkpoint, which are
 * replayed. Invariant: the lineage holds training steps {@code 0..n-1} with their seconds; a recovery cuts it back to
 * the checkpoint's steps.
 */
public final class RecoveryBook {

    /** Where a recovery resumes (the checkpoint's training step), what it replays and loses, and its moments. */
    public record Rollback(int resumeAt, int replayedSteps, double lostWorkSeconds, double detectedAtSeconds,
                           double restartAtSeconds, double recoveredAtSeconds) {}

    /** What faults cost a run, as counted here. */
    public record Totals(int committedSteps, int recoveries, int replayedSteps, double lostWorkSeconds, double usefulSeconds,
                         double elapsedSeconds, int checkpoints, double checkpointSeconds, double waitedForSpareSeconds) {

        /** Useful step time over the whole emulated time (1 without any time). */
        public double goodput() {
            return elapsedSeconds > 0 ? usefulSeconds / elapsedSeconds : 1.0;
        }
    }

    private final RecoverySpec spec;
    private final int spares;
    /** When each spare node is free, earliest first (as many as there are spares). */
    private final PriorityQueue<Double> spareFreeAt = new PriorityQueue<>();
    /** Step time of each committed training step of the lineage, in order ({@code steps} of them; primitive: weeks of steps). */
    private double[] stepSeconds = new double[1024];
    private int steps;
    private final Map<Integer, Integer> failures = new TreeMap<>();
    private int checkpointStep;
    private long checkpointBytes;
    private int recoveries;
    private int replayedSteps;
    private double lostWorkSeconds;
    private int checkpoints;
    private double checkpointSeconds;
    private double waitedForSpareSeconds;

    public RecoveryBook(RecoverySpec spec, int spares) {
        if (spares < 0) throw new IllegalArgumentException("spares must be >= 0, got " + spares);
        this.spec = spec;
        this.spares = spares;
        for (int i = 0; i < spares; i++) spareFreeAt.add(0.0);
    }

    public RecoverySpec spec() { return spec; }

    /** Training steps committed in the lineage. */
    public int committedSteps() { return steps; }

    /** Commits the next training step, which took {@code seconds}; returns what is wrong, or "". */
    public String committed(int trainingStep, double seconds) {
        if (trainingStep < steps) return "ledger: training step " + trainingStep + " committed twice";
        if (trainingStep != steps) return "ledger: training step " + trainingStep + " committed after " + steps + " steps";
        if (steps == stepSeconds.length) stepSeconds = Arrays.copyOf(stepSeconds, 2 * steps);
        stepSeconds[steps++] = seconds;
        return "";
    }

    /** Whether a checkpoint follows training step {@code trainingStep}. */
    public boolean checkpointDue(int trainingStep) {
        int every = spec.checkpointEverySteps();
        return every > 0 && (trainingStep + 1) % every == 0;
    }

    /** A checkpoint of {@code bytes} after {@code trainingStep}; returns the seconds writing it takes. */
    public double checkpointed(int trainingStep, long bytes) {
        double seconds = bytes / spec.storageBytesPerSecond();
        checkpointStep = trainingStep + 1;
        checkpointBytes = bytes;
        checkpoints++;
        checkpointSeconds += seconds;
        return seconds;
    }

    /** The training steps the last checkpoint holds (0: the run's start, which needs nothing read back). */
    public int checkpointStep() { return checkpointStep; }

    /** Counts a failure of {@code trainingStep}; returns how many it has had. */
    public int failed(int trainingStep) {
        return failures.merge(trainingStep, 1, Integer::sum);
    }

    /**
     * Recovers from a failure at {@code failedAt} of the attempt that began at {@code attemptStart} (run axis),
     * noticed {@code detectSeconds} later, whose node is out for {@code repairSeconds} (0: not out): the lineage goes
     * back to the last checkpoint, whose steps are replayed; training goes on after the restart and reading the
     * checkpoint back.
     */
    public Rollback rollBack(double failedAt, double detectSeconds, double repairSeconds, double attemptStart) {
        double lost = failedAt - attemptStart;
        int replayed = 0;
        for (int s = checkpointStep; s < steps; s++) {
            lost += stepSeconds[s];
            replayed++;
        }
        double detectedAt = failedAt + detectSeconds;
        double restartAt = detectedAt;
        if (repairSeconds > 0) {
            if (spares == 0) {
                restartAt = detectedAt + repairSeconds;
            } else {
                restartAt = Math.max(detectedAt, spareFreeAt.poll());
                // the failed node is repaired and joins the spares
                spareFreeAt.add(detectedAt + repairSeconds);
            }
            waitedForSpareSeconds += restartAt - detectedAt;
        }
        double recoveredAt = restartAt + spec.restartSeconds() + checkpointBytes / spec.storageBytesPerSecond();
        steps = checkpointStep;
        recoveries++;
        replayedSteps += replayed;
        lostWorkSeconds += lost;
        return new Rollback(checkpointStep, replayed, lost, detectedAt, restartAt, recoveredAt);
    }

    /** What faults cost the run, given its emulated {@code elapsedSeconds}. */
    public Totals totals(double elapsedSeconds) {
        double useful = 0;
        for (int s = 0; s < steps; s++) useful += stepSeconds[s];
        return new Totals(steps, recoveries, replayedSteps, lostWorkSeconds, useful, elapsedSeconds, checkpoints,
                checkpointSeconds, waitedForSpareSeconds);
    }
}
