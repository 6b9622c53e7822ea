package dev.pipelab.monitoring;

/**
 * One telemetry event of a run. Invariant: events are plain immutable records with no Pekko types, so that
 * recorded or synthetic streams can be analysed without an actor system; spans are emitted once, when they
 * end, with both ends.
 *
 * <p>Times are emulated seconds <b>since the start of the event's step</b> (every step starts at 0.0, exactly
 * as the analytic evaluator computes one step), so that each step can be compared bit for bit with the
 * evaluator. {@link StepStarted#runSeconds()} and {@link StepEnded#runSeconds()} place the step on the run's
 * time axis: a consumer drawing a timeline adds the step's {@code runSeconds} at start.
 *
 * <p>Replica is the data-parallel index, rank the pipeline position (device within the pipeline), stage the
 * model stage (differs from rank with interleaved schedules).
 */
public sealed interface Event permits Event.ActionSpan, Event.TransferSpan, Event.CreditStall, Event.MemoryChanged,
        Event.AllReduceSpan, Event.StepStarted, Event.StepEnded, Event.OutOfMemory, Event.StepLoss {

    /** When the event happened (a span: when it ended). */
    double atSeconds();

    /**
     * A compute action of one stage for one micro-batch (or the optimizer step: stage -1, micro-batch -1).
     * {@code durationSeconds} is the action's exact duration as the cost model gives it; {@code end - start}
     * can differ from it in the last bit, and busy time must add durations to agree with the evaluator exactly.
     */
    record ActionSpan(int step, int replica, int rank, int stage, Phase phase, int microBatch, double startSeconds,
                      double endSeconds, double durationSeconds) implements Event {

        /** A span whose duration is {@code end - start} (synthetic streams, tests). */
        public ActionSpan(int step, int replica, int rank, int stage, Phase phase, int microBatch, double startSeconds,
                          double endSeconds) {
            this(step, replica, rank, stage, phase, microBatch, startSeconds, endSeconds, endSeconds - startSeconds);
        }

        public double atSeconds() { return endSeconds; }

        /** The exact duration (see the record's Javadoc). */
        public double seconds() { return durationSeconds; }
    }

    /**
     * A message on a link: {@code startSeconds} when it left (link free and payload ready),
     * {@code endSeconds} when it arrived. {@code kind} is {@code activation}, {@code gradient} or {@code allreduce}.
     */
    record TransferSpan(int step, int replica, int fromRank, int toRank, String kind, int stage, int microBatch,
                        long bytes, double readySeconds, double startSeconds, double endSeconds) implements Event {
        public double atSeconds() { return endSeconds; }
    }

    /** A sender that had work ready but waited for the receiver's credit on a link. */
    record CreditStall(int step, int replica, int fromRank, int toRank, double startSeconds, double endSeconds) implements Event {
        public double atSeconds() { return endSeconds; }
    }

    /** Live activation bytes (plus static bytes) of a rank after a change. */
    record MemoryChanged(int step, int replica, int rank, double atSeconds, long bytes) implements Event {}

    /** The data-parallel gradient all-reduce of one model stage, seen from one replica. */
    record AllReduceSpan(int step, int replica, int stage, long bytes, double startSeconds, double endSeconds) implements Event {
        public double atSeconds() { return endSeconds; }
    }

    /**
     * A training step began at {@code runSeconds} of the run: the data loader handed out
     * {@code microBatches} micro-batches per replica starting at sample offset {@code firstOffset}.
     */
    record StepStarted(int step, double runSeconds, long firstOffset, int microBatches) implements Event {
        public double atSeconds() { return 0.0; }
    }

    /**
     * A step completed on every replica after {@code stepSeconds}, at {@code runSeconds} of the run; the data
     * loader committed offsets up to {@code committedOffset} (exclusive).
     */
    record StepEnded(int step, double stepSeconds, double runSeconds, long committedOffset) implements Event {
        public double atSeconds() { return stepSeconds; }
    }

    /** A rank whose live memory would exceed the device's. */
    record OutOfMemory(int step, int replica, int rank, double atSeconds, long bytes, long capacityBytes) implements Event {}

    /**
     * Real-numerics mode: the training loss of a completed step, the mean over replicas and micro-batches
     * (emitted after the step's {@link StepEnded}).
     */
    record StepLoss(int step, double loss) implements Event {
        public double atSeconds() { return 0.0; }
    }
}
