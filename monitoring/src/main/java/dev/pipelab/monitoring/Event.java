package dev.pipelab.monitoring;

import java.util.List;

/**
 * One telemetry event of a run. Invariant: events are plain immutable values with no Pekko types, so that
 * recorded or synthetic streams can be analysed without an actor system; spans are reported once, when they
 * end, with both ends.
 *
 * <p>Spans travel in batches: a stage reports what its rank did in a step as one {@link RankActivity} and a link
 * what it carried as one {@link LinkActivity}, columns of primitives rather than an object per span. Why: a run
 * makes about 10,000 spans per step at 32 ranks; one object each, queued and retained by every consumer, cost the
 * emulation a third of its speed ({@code pipelab bench runtime}). The single spans ({@link Detail}) remain as views
 * of a batch ({@link Batch#details()}) and as the vocabulary of synthetic streams ({@link Events#batched}).
 *
 * <p>Times are emulated seconds <b>since the start of the event's step</b> (every step starts at 0.0, exactly
 * as the analytic evaluator computes one step), so that each step can be compared bit for bit with the
 * evaluator. {@link StepStarted#runSeconds()} and {@link StepEnded#runSeconds()} place the step on the run's
 * time axis: a consumer drawing a timeline adds the step's {@code runSeconds} at start.
 *
 * <p>Replica is the data-parallel index, rank the pipeline position (device within the pipeline), stage the
 * model stage (differs from rank with interleaved schedules).
 */
public sealed interface Event permits Event.Batch, Event.StepStarted, Event.StepEnded, Event.StepAbandoned, Event.OutOfMemory,
        Event.StepLoss {

    /** When the event happened (a span: when it ended; a batch: when its last span ended). */
    double atSeconds();

    /** Spans of one step, as columns; {@link #details()} gives them one by one. */
    sealed interface Batch extends Event permits RankActivity, LinkActivity {
        int step();

        /** Every span of the batch as a value, grouped by kind, each kind in the order it was recorded. */
        java.util.List<Detail> details();
    }

    /** One span or change inside a {@link Batch}. */
    sealed interface Detail permits ActionSpan, TransferSpan, CreditStall, MemoryChanged, AllReduceSpan {
        int step();

        double atSeconds();
    }

    /**
     * A compute action of one stage for one micro-batch (or the optimizer step: stage -1, micro-batch -1).
     * {@code durationSeconds} is the action's exact duration as the cost model gives it; {@code end - start}
     * can differ from it in the last bit, and busy time must add durations to agree with the evaluator exactly.
     */
    record ActionSpan(int step, int replica, int rank, int stage, Phase phase, int microBatch, double startSeconds,
                      double endSeconds, double durationSeconds) implements Detail {

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
                        long bytes, double readySeconds, double startSeconds, double endSeconds) implements Detail {
        public double atSeconds() { return endSeconds; }
    }

    /** A sender that had work ready but waited for the receiver's credit on a link. */
    record CreditStall(int step, int replica, int fromRank, int toRank, double startSeconds, double endSeconds) implements Detail {
        public double atSeconds() { return endSeconds; }
    }

    /** Live activation bytes (plus static bytes) of a rank after a change. */
    record MemoryChanged(int step, int replica, int rank, double atSeconds, long bytes) implements Detail {}

    /** The data-parallel gradient all-reduce of model stage {@code stage} (held by {@code rank}), seen from one replica. */
    record AllReduceSpan(int step, int replica, int rank, int stage, long bytes, double startSeconds, double endSeconds)
            implements Detail {
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
     * loader committed offsets up to {@code committedOffset} (exclusive). {@code stages} and {@code links} are what
     * every stage and link actor recorded of the step (none with telemetry off), in canonical order: stages by
     * (replica, rank), pipeline links by (replica, fromRank, toRank), then ring links by (replica, rank).
     */
    record StepEnded(int step, double stepSeconds, double runSeconds, long committedOffset, List<StageRecord> stages,
                     List<LinkRecord> links) implements Event {
        public StepEnded {
            stages = List.copyOf(stages);
            links = List.copyOf(links);
        }

        /** A step ended with no records (telemetry off). */
        public StepEnded(int step, double stepSeconds, double runSeconds, long committedOffset) {
            this(step, stepSeconds, runSeconds, committedOffset, List.of(), List.of());
        }

        public double atSeconds() { return stepSeconds; }
    }

    /**
     * A step that will never complete (the run deadlocked or failed): the records of what its actors did up to then,
     * so that the trace and the report show what ran.
     */
    record StepAbandoned(int step, String reason, List<StageRecord> stages, List<LinkRecord> links) implements Event {
        public StepAbandoned {
            stages = List.copyOf(stages);
            links = List.copyOf(links);
        }

        public double atSeconds() { return 0.0; }
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
