package dev.pipelab.pipeline;

import dev.pipelab.numerics.Param;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.stage.StageReport;

import java.util.List;
import java.util.Optional;

/**
 * The outcome of a run: every completed step's numbers per (replica, rank), in step-local seconds comparable
 * with the evaluator's {@code Timeline}, and how the run ended. Invariant: {@code steps} holds the completed
 * steps in order; a run that deadlocked or failed holds the steps completed before.
 */
public record RunResult(Schedule schedule, int replicas, List<StepResult> steps, Status status, Optional<Deadlock> deadlock,
                        Optional<String> failure, List<Double> losses, List<Param> weights, Recovery recovery) {

    /** Without faults. */
    public RunResult(Schedule schedule, int replicas, List<StepResult> steps, Status status, Optional<Deadlock> deadlock,
                     Optional<String> failure, List<Double> losses, List<Param> weights) {
        this(schedule, replicas, steps, status, deadlock, failure, losses, weights, Recovery.NONE);
    }

    /** Emulated mode: no losses, no weights. */
    public RunResult(Schedule schedule, int replicas, List<StepResult> steps, Status status, Optional<Deadlock> deadlock,
                     Optional<String> failure) {
        this(schedule, replicas, steps, status, deadlock, failure, List.of(), List.of());
    }

    /**
     * What faults cost the run (docs/faults.md): recoveries, training steps done again, emulated seconds of thrown-away
     * work, the step time of the steps that count ({@code usefulSeconds}) against the run's whole emulated time
     * ({@code elapsedSeconds}), duplicate deliveries the stages dropped, and checkpoints taken with their seconds.
     */
    public record Recovery(int recoveries, int replayedSteps, double lostWorkSeconds, double usefulSeconds, double elapsedSeconds,
                           long duplicatesDropped, int checkpoints, double checkpointSeconds) {
        public static final Recovery NONE = new Recovery(0, 0, 0, 0, 0, 0, 0, 0);

        /** Useful step time over elapsed time (1 without faults or checkpoints; 0 for an empty run). */
        public double goodput() {
            return elapsedSeconds > 0 ? usefulSeconds / elapsedSeconds : 0;
        }
    }

    public enum Status { COMPLETED, DEADLOCKED, FAILED }

    /**
     * A step that could not progress: the stuck actions (rank, action, what it waits for; the evaluator's wording,
     * prefixed by the replica when d > 1) and the schedule grid.
     */
    public record Deadlock(int step, List<String> stuckActions, String grid) {
        public Deadlock {
            stuckActions = List.copyOf(stuckActions);
        }

        public String message() {
            return "deadlock at step " + step + ": no action can start and nothing is in flight\n  "
                    + String.join("\n  ", stuckActions) + "\n" + grid;
        }
    }

    /**
     * One completed step.
     *
     * @param runSecondsStart where the step begins on the run's axis (sum of earlier step times)
     * @param reports         one per (replica, rank), ordered by replica then rank
     */
    public record StepResult(int step, double stepSeconds, double runSecondsStart, List<StageReport> reports) {
        public StepResult {
            reports = List.copyOf(reports);
        }

        public double runSecondsEnd() { return runSecondsStart + stepSeconds; }
    }

    /**
     * Real-numerics mode: {@code losses} per completed step (mean over replicas and micro-batches, summed replica by
     * replica and micro-batch by micro-batch as the sequential reference sums them); {@code weights} the final
     * weights of every model stage in model order (empty unless the run completed).
     */
    public RunResult {
        steps = List.copyOf(steps);
        losses = List.copyOf(losses);
        weights = List.copyOf(weights);
    }

    public boolean completed() { return status == Status.COMPLETED; }

    /** This result, or an exception saying why the run did not complete. */
    public RunResult orThrow() {
        if (status == Status.DEADLOCKED) throw new IllegalStateException(deadlock.orElseThrow().message());
        if (status == Status.FAILED) throw new IllegalStateException(failure.orElseThrow());
        return this;
    }

    public int ranks() { return schedule.ranks(); }

    public StageReport report(int step, int replica, int rank) {
        return steps.get(step).reports().get(replica * schedule.ranks() + rank);
    }

    public double stepSeconds(int step) { return steps.get(step).stepSeconds(); }

    /** Sum of step times: the run's emulated duration. */
    public double runSeconds() {
        return steps.isEmpty() ? 0 : steps.get(steps.size() - 1).runSecondsEnd();
    }

    public double actionStart(int step, int replica, int rank, int position) { return report(step, replica, rank).starts()[position]; }

    public double actionEnd(int step, int replica, int rank, int position) { return report(step, replica, rank).ends()[position]; }

    public double busySeconds(int step, int replica, int rank) { return report(step, replica, rank).busySeconds(); }

    public long peakMemoryBytes(int step, int replica, int rank) { return report(step, replica, rank).peakMemoryBytes(); }

    public int peakInFlight(int step, int replica, int rank) { return report(step, replica, rank).peakInFlight(); }

    public double optimizerStart(int step, int replica, int rank) { return report(step, replica, rank).optimizerStart(); }

    public double optimizerEnd(int step, int replica, int rank) { return report(step, replica, rank).optimizerEnd(); }

    public double allReduceStart(int step, int replica, int stage) {
        return report(step, replica, schedule.rankOf(stage)).allReduceStart()[schedule.chunkOf(stage)];
    }

    public double allReduceEnd(int step, int replica, int stage) {
        return report(step, replica, schedule.rankOf(stage)).allReduceEnd()[schedule.chunkOf(stage)];
    }

    /** Time rank {@code rank} of {@code replica} waited for credit alone on its link to {@code toRank}. */
    public double linkStallSeconds(int step, int replica, int rank, int toRank) {
        return report(step, replica, rank).linkStallSeconds()[toRank];
    }

    /**
     * Idle stage-time over total stage-time of one replica, computed as {@code Timeline.bubbleFraction} does:
     * {@code (p·stepTime - Σ busy) / (p·stepTime)}, busy summed in rank order.
     */
    public double bubbleFraction(int step, int replica) {
        double stepTime = stepSeconds(step);
        if (stepTime == 0) return 0;
        double busy = 0;
        for (int r = 0; r < schedule.ranks(); r++) busy += busySeconds(step, replica, r);
        double total = schedule.ranks() * stepTime;
        return (total - busy) / total;
    }
}
