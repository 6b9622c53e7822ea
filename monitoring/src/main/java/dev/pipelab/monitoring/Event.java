package dev.pipelab.monitoring;

import java.util.List;

/**
 * One telemetry event of a run: a step started, ended (with what every stage and link actor recorded of it), was
 * abandoned, or reported its loss. Invariant: events are plain immutable values with no Pekko types, so that recorded
 * or synthetic streams can be analysed without an actor system, and a step's activity arrives once, at its end, as
 * records ({@link StageRecord}, {@link LinkRecord}) rather than as a stream of spans.
 *
 * <p>Times inside records are emulated seconds <b>since the start of the step</b> (every step starts at 0.0, exactly
 * as the analytic evaluator computes one step), so that each step can be compared bit for bit with the evaluator.
 * {@link StepStarted#runSeconds()} and {@link StepEnded#runSeconds()} place the step on the run's time axis.
 *
 * <p>Replica is the data-parallel index, rank the pipeline position (device within the pipeline), stage the
 * model stage (differs from rank with interleaved schedules).
 */
public sealed interface Event permits Event.StepStarted, Event.StepEnded, Event.StepAbandoned, Event.StepLoss,
        Event.FaultInjected, Event.FaultHealed, Event.Recovered, Event.Checkpointed, Event.StepCommitted {

    int step();

    /**
     * A training step began at {@code runSeconds} of the run: the data loader handed out
     * {@code microBatches} micro-batches per replica starting at sample offset {@code firstOffset}.
     */
    record StepStarted(int step, double runSeconds, long firstOffset, int microBatches) implements Event {}

    /**
     * A step completed on every replica after {@code stepSeconds}, at {@code runSeconds} of the run; the data
     * loader committed offsets up to {@code committedOffset} (exclusive). {@code stages} and {@code links} are what
     * every stage and link actor recorded of the step (none with telemetry off), in canonical order: stages by
     * (replica, rank), pipeline links by (replica, fromRank, toRank), then ring links by (replica, rank).
     * {@code telemetryLost} counts the step's records that were sent but never arrived whole (a part or the whole
     * record lost between nodes): they are missing from {@code stages}/{@code links}, or there with exact sums but
     * without some spans (docs/telemetry.md, Records across nodes).
     */
    record StepEnded(int step, double stepSeconds, double runSeconds, long committedOffset, List<StageRecord> stages,
                     List<LinkRecord> links, int telemetryLost) implements Event {
        public StepEnded {
            stages = List.copyOf(stages);
            links = List.copyOf(links);
            if (telemetryLost < 0) throw new IllegalArgumentException("telemetryLost must be >= 0, got " + telemetryLost);
        }

        /** A step ended with every record in. */
        public StepEnded(int step, double stepSeconds, double runSeconds, long committedOffset, List<StageRecord> stages,
                         List<LinkRecord> links) {
            this(step, stepSeconds, runSeconds, committedOffset, stages, links, 0);
        }

        /** A step ended with no records (telemetry off). */
        public StepEnded(int step, double stepSeconds, double runSeconds, long committedOffset) {
            this(step, stepSeconds, runSeconds, committedOffset, List.of(), List.of());
        }
    }

    /**
     * A step that will never complete (the run deadlocked or failed): the records of what its actors did up to then,
     * so that the trace and the report show what ran; {@code telemetryLost} as in {@link StepEnded}, for the records
     * that were sent (a stage or link that never finished sends none).
     */
    record StepAbandoned(int step, String reason, List<StageRecord> stages, List<LinkRecord> links, int telemetryLost)
            implements Event {
        public StepAbandoned {
            stages = List.copyOf(stages);
            links = List.copyOf(links);
            if (telemetryLost < 0) throw new IllegalArgumentException("telemetryLost must be >= 0, got " + telemetryLost);
        }

        public StepAbandoned(int step, String reason, List<StageRecord> stages, List<LinkRecord> links) {
            this(step, reason, stages, links, 0);
        }
    }

    /**
     * Real-numerics mode: the training loss of a completed step, the mean over replicas and micro-batches
     * (emitted after the step's {@link StepEnded}).
     */
    record StepLoss(int step, double loss) implements Event {}

    /*
     * Faults and recovery (docs/faults.md). With faults, a "step" of these events is one attempt at a training step
     * (the run's timeline advances attempt by attempt, so a replayed training step is a new step here);
     * StepCommitted says which training step an attempt completed. Without faults the two numberings are the same.
     */

    /**
     * Fault {@code fault} (its index in the run's list) of kind {@code kind} (e.g. {@code link.loss}) became active on
     * {@code target} (as written, e.g. {@code 0/1->2}) at {@code runSeconds}, during attempt {@code step};
     * {@code description} is its whole written form.
     */
    record FaultInjected(int step, double runSeconds, int fault, String kind, String target, String description) implements Event {}

    /** Fault {@code fault} stopped acting at {@code runSeconds} (during or before attempt {@code step}). */
    record FaultHealed(int step, double runSeconds, int fault) implements Event {}

    /**
     * Attempt {@code step} failed and the run recovered: the failure ({@code reason}, caused by fault {@code fault} or
     * -1 when no injected fault is known to have caused it) happened at {@code failedAtSeconds} of the run, was detected
     * at {@code detectedAtSeconds}, and training went on at {@code recoveredAtSeconds} from training step
     * {@code resumedFromStep} (the last checkpoint), so {@code replayedSteps} completed training steps are done again.
     * {@code lostWorkSeconds} is the emulated time whose work was thrown away: the failed attempt up to the failure and
     * the replayed steps' first runs. For a lost node, the wall seconds the real cluster took: from the kill to the
     * trainer hearing of the loss ({@code wallDetectSeconds}, Pekko's failure detector and downing) and from then to the
     * replicas running again on the surviving workers ({@code wallRestartSeconds}); NaN when not measured.
     */
    record Recovered(int step, int fault, String reason, double failedAtSeconds, double detectedAtSeconds,
                     double recoveredAtSeconds, int resumedFromStep, int replayedSteps, double lostWorkSeconds,
                     double wallDetectSeconds, double wallRestartSeconds) implements Event {
        /** Without wall-clock measurements (NaN): all but a lost node are noticed at once and restarted in place. */
        public Recovered(int step, int fault, String reason, double failedAtSeconds, double detectedAtSeconds,
                         double recoveredAtSeconds, int resumedFromStep, int replayedSteps, double lostWorkSeconds) {
            this(step, fault, reason, failedAtSeconds, detectedAtSeconds, recoveredAtSeconds, resumedFromStep, replayedSteps,
                    lostWorkSeconds, Double.NaN, Double.NaN);
        }
    }

    /**
     * After attempt {@code step} completed training step {@code trainingStep}, a checkpoint of {@code bytes} took
     * {@code seconds}, ending at {@code runSeconds}.
     */
    record Checkpointed(int step, int trainingStep, double runSeconds, double seconds, long bytes) implements Event {}

    /**
     * Attempt {@code step} completed and committed training step {@code trainingStep}: for each replica, the data
     * loader offsets its stages consumed, and how many times each rank applied the optimizer (once, in a sound run).
     */
    record StepCommitted(int step, int trainingStep, List<Consumed> replicas) implements Event {
        public StepCommitted {
            replicas = List.copyOf(replicas);
        }
    }

    /** What one replica consumed in a step: its micro-batch offsets in consumption order, and optimizer steps per rank. */
    record Consumed(int replica, List<Long> offsets, List<Integer> optimizerSteps) {
        public Consumed {
            offsets = List.copyOf(offsets);
            optimizerSteps = List.copyOf(optimizerSteps);
        }
    }
}
