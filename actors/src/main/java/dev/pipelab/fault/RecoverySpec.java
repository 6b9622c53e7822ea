package dev.pipelab.fault;

/**
 * How a run recovers from a failure, and what recovery costs in emulated time (scenario keys {@code recovery.*},
 * docs/faults.md for the defaults and their sources).
 *
 * @param checkpointEverySteps a checkpoint after every this many completed steps; 0: none, so a failure cannot be
 *                             recovered from and ends the run
 * @param storageBytesPerSecond how fast a checkpoint is written and read (the whole model's parameters and optimizer
 *                             state of one replica)
 * @param detectSeconds        how long a crashed, hung or killed stage goes unnoticed (the heartbeat timeout)
 * @param restartSeconds       restarting the failed processes and rejoining the job
 * @param retransmitSeconds    a sender's retransmission timeout for a lost message (doubled on each retry)
 * @param timeoutSeconds       how long a message may take before the collective gives up and the step fails
 * @param maxRestarts          failures of one step after which the run gives up
 * @param elastic              shrink by whole replicas instead of waiting for a slot (not supported yet)
 */
public record RecoverySpec(int checkpointEverySteps, double storageBytesPerSecond, double detectSeconds, double restartSeconds,
                           double retransmitSeconds, double timeoutSeconds, int maxRestarts, boolean elastic) {

    /** No checkpoints; the other settings at their defaults (docs/faults.md). */
    public static final RecoverySpec NONE = new RecoverySpec(0, 2e9, 10.0, 30.0, 0.2, 1800.0, 3, false);

    public RecoverySpec {
        if (checkpointEverySteps < 0) throw new IllegalArgumentException("checkpointEverySteps must be >= 0, got " + checkpointEverySteps);
        if (!(storageBytesPerSecond > 0)) throw new IllegalArgumentException("storageBytesPerSecond must be > 0, got " + storageBytesPerSecond);
        if (!(detectSeconds >= 0)) throw new IllegalArgumentException("detectSeconds must be >= 0, got " + detectSeconds);
        if (!(restartSeconds >= 0)) throw new IllegalArgumentException("restartSeconds must be >= 0, got " + restartSeconds);
        if (!(retransmitSeconds > 0)) throw new IllegalArgumentException("retransmitSeconds must be > 0, got " + retransmitSeconds);
        if (!(timeoutSeconds > 0)) throw new IllegalArgumentException("timeoutSeconds must be > 0, got " + timeoutSeconds);
        if (maxRestarts < 0) throw new IllegalArgumentException("maxRestarts must be >= 0, got " + maxRestarts);
    }

    /** Whether a failure can be recovered from at all. */
    public boolean checkpoints() {
        return checkpointEverySteps > 0;
    }

    public RecoverySpec withCheckpointEvery(int steps) {
        return new RecoverySpec(steps, storageBytesPerSecond, detectSeconds, restartSeconds, retransmitSeconds, timeoutSeconds,
                maxRestarts, elastic);
    }
}
