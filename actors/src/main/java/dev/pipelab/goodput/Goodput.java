package dev.pipelab.goodput;

import dev.pipelab.fault.FaultDraws;
import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RecoveryBook;
import dev.pipelab.fault.RecoverySpec;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Training emulated at step granularity, the actor runtime's trainer without the actors (docs/goodput.md): every
 * fault-free step takes the evaluator's exact step time; an attempt at a step fails at the first interruption before
 * its end (one that came while no attempt ran, during a checkpoint write or a recovery, fails the next attempt at its
 * start); a failure costs what {@link RecoveryBook} says; a checkpoint follows every {@code checkpointEverySteps}
 * committed steps. Invariant: the sequence of additions to the run's axis is the trainer's, operation for operation,
 * so the totals agree with a virtual-time run to the bit.
 */
public final class Goodput {

    /**
     * What to emulate: a job whose fault-free step takes {@code stepSeconds} and trains {@code tokensPerStep} tokens,
     * whose checkpoint holds {@code checkpointBytes}, recovering as {@code recovery} says, interrupted as {@code rates}
     * draws for its shape ({@code replicas} pipelines of {@code ranks} stages of {@code tensor} devices,
     * {@code devicesPerNode} to a node); it stops after {@code maxSteps} committed training steps or once the run's axis
     * reaches {@code horizonSeconds}, whichever comes first.
     */
    public record Input(double stepSeconds, long checkpointBytes, long tokensPerStep, RecoverySpec recovery, RandomFaults rates,
                        int replicas, int ranks, int tensor, int devicesPerNode, long maxSteps, double horizonSeconds) {

        public Input {
            if (!(stepSeconds > 0) || Double.isInfinite(stepSeconds)) throw new IllegalArgumentException("stepSeconds must be finite and > 0");
            if (maxSteps < 1) throw new IllegalArgumentException("maxSteps must be >= 1");
            if (!(horizonSeconds > 0)) throw new IllegalArgumentException("horizonSeconds must be > 0");
        }

        /** The same job checkpointing every {@code steps}. */
        public Input withCheckpointEvery(int steps) {
            return new Input(stepSeconds, checkpointBytes, tokensPerStep, recovery.withCheckpointEvery(steps), rates, replicas, ranks,
                    tensor, devicesPerNode, maxSteps, horizonSeconds);
        }

        /** The draws of this job's interruptions, from the start. */
        public FaultDraws draws() {
            return new FaultDraws(rates, replicas, ranks, tensor, devicesPerNode);
        }
    }

    /** How an emulation ended. */
    public enum Status {
        /** {@code maxSteps} training steps committed. */
        COMPLETED,
        /** The run's axis reached the horizon. */
        HORIZON,
        /** A failure could not be recovered from (no checkpoint, or a step failed more than {@code maxRestarts} times). */
        FAILED
    }

    /**
     * One interruption that failed an attempt: the draw, the training step it failed, and the recovery's moments and
     * costs (as the trainer's {@code Recovered} event gives them).
     */
    public record Interruption(FaultDraws.Draw draw, int trainingStep, double failedAtSeconds, RecoveryBook.Rollback rollback,
                               double detectSeconds, double repairSeconds) {}

    /** What the emulation found. */
    public record Result(Input input, Status status, String reason, RecoveryBook.Totals totals, int attempts,
                         List<Interruption> interruptions, Map<RandomFaults.Kind, Integer> byKind, double mtbfSeconds) {

        /** Tokens in the committed training steps. */
        public long tokensTrained() {
            return (long) totals.committedSteps() * input.tokensPerStep();
        }
    }

    /** Told now and then how far the emulation is: the run's axis in seconds and the committed training steps. */
    public interface Progress {
        void at(double runSeconds, long committedSteps);

        Progress NONE = (s, n) -> {};
    }

    private Goodput() {}

    /** Emulates {@code in}; {@code progress} hears every 4,096 attempts. */
    public static Result emulate(Input in, Progress progress) {
        RecoverySpec recovery = in.recovery();
        RecoveryBook book = new RecoveryBook(recovery, in.rates().spares());
        FaultDraws draws = in.draws();
        ArrayDeque<FaultDraws.Draw> pending = new ArrayDeque<>();
        FaultDraws.Draw ahead = draws.next();
        List<Interruption> interruptions = new ArrayList<>();
        Map<RandomFaults.Kind, Integer> byKind = new EnumMap<>(RandomFaults.Kind.class);
        double step = in.stepSeconds();
        double run = 0;
        int training = 0;
        int attempts = 0;
        Status status = Status.COMPLETED;
        String reason = "";
        while (true) {
            if (training >= in.maxSteps()) break;
            if (run >= in.horizonSeconds()) {
                status = Status.HORIZON;
                break;
            }
            double attemptStart = run;
            attempts++;
            if ((attempts & 4095) == 0) progress.at(run, book.committedSteps());
            double end = attemptStart + step;
            while (ahead.atSeconds() < end) {
                pending.add(ahead);
                ahead = draws.next();
            }
            FaultDraws.Draw hit = pending.pollFirst();
            if (hit == null) {
                book.committed(training, step);
                run += step;
                if (book.checkpointDue(training)) run += book.checkpointed(training, in.checkpointBytes());
                training++;
                continue;
            }
            double failedAt = Math.max(hit.atSeconds(), attemptStart);
            if (!recovery.checkpoints()) {
                status = Status.FAILED;
                reason = hit.kind().key() + " interruption at " + failedAt + " s: no checkpoint to recover from";
                run = failedAt;
                break;
            }
            int failures = book.failed(training);
            if (failures > recovery.maxRestarts()) {
                status = Status.FAILED;
                reason = "training step " + training + " failed " + failures + " times (recovery.maxRestarts = "
                        + recovery.maxRestarts() + ")";
                run = failedAt;
                break;
            }
            RandomFaults.Rate rate = in.rates().rate(hit.kind()).orElseThrow();
            double detect = rate.detect(recovery);
            RecoveryBook.Rollback back = book.rollBack(failedAt, detect, rate.repairSeconds(), attemptStart);
            interruptions.add(new Interruption(hit, training, failedAt, back, detect, rate.repairSeconds()));
            byKind.merge(hit.kind(), 1, Integer::sum);
            run = back.recoveredAtSeconds();
            training = back.resumeAt();
        }
        progress.at(run, book.committedSteps());
        return new Result(in, status, reason, book.totals(run), attempts, List.copyOf(interruptions), byKind,
                in.rates().mtbfSeconds(draws.size()));
    }
}
