package dev.pipelab.pipeline;

import dev.pipelab.fault.RecoveryBook;
import dev.pipelab.fault.RecoverySpec;
import dev.pipelab.monitoring.Event;
import dev.pipelab.protocol.Payload;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The training steps that count and the arithmetic of recovering from a failure (docs/faults.md), pure: the
 * {@link Trainer}'s partner. The ledger's part is here (which offsets each training step consumed, each rank's optimizer
 * steps); the seconds are the shared {@link RecoveryBook}'s, the cost model {@code pipelab goodput} also uses.
 * Invariant: the lineage holds training steps {@code 0..n-1}, each committed once with exactly m offsets per replica,
 * no offset twice, every rank one optimizer step past the previous commit; a recovery rolls it back to the last
 * checkpoint, whose steps it keeps.
 */
final class Lineage {

    private final int microBatches;
    private final RecoveryBook book;
    /** The training step that consumed each offset of the lineage. */
    private final Map<Long, Integer> consumedBy = new HashMap<>();
    /** Each rank's state in the last checkpoint (real-numerics mode). */
    private Map<Integer, List<Payload>> checkpointState = Map.of();

    Lineage(int microBatches, RecoverySpec spec, int spares) {
        this.microBatches = microBatches;
        this.book = new RecoveryBook(spec, spares);
    }

    /**
     * Commits {@code trainingStep}, which took {@code seconds}, with what each replica consumed; returns what does not
     * balance (the run must fail loudly), or "" when it does and the step joined the lineage.
     */
    String commit(int trainingStep, double seconds, List<Event.Consumed> consumed) {
        if (trainingStep < book.committedSteps()) return "ledger: training step " + trainingStep + " committed twice";
        if (trainingStep != book.committedSteps()) {
            return "ledger: training step " + trainingStep + " committed after " + book.committedSteps() + " steps";
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
        return book.committed(trainingStep, seconds);
    }

    /** Whether a checkpoint follows training step {@code trainingStep}. */
    boolean checkpointDue(int trainingStep) {
        return book.checkpointDue(trainingStep);
    }

    /** A checkpoint of {@code bytes} after {@code trainingStep}; returns the seconds writing it takes. */
    double checkpointed(int trainingStep, Map<Integer, List<Payload>> state, long bytes) {
        checkpointState = Map.copyOf(state);
        return book.checkpointed(trainingStep, bytes);
    }

    /** The training steps the last checkpoint holds (0: the run's start, which needs nothing read back). */
    int checkpointStep() {
        return book.checkpointStep();
    }

    /** Each rank's state in the last checkpoint (real-numerics mode; empty otherwise and for the run's start). */
    Map<Integer, List<Payload>> checkpointState() {
        return checkpointState;
    }

    /** Counts a failure of {@code trainingStep}; returns how many it has had. */
    int failed(int trainingStep) {
        return book.failed(trainingStep);
    }

    /**
     * Recovers from a failure at {@code failedAt} of the attempt that began at {@code attemptStart} (run axis), noticed
     * {@code detectSeconds} later, its node out for {@code repairSeconds} (0: not out): the lineage goes back to the last
     * checkpoint, whose steps are replayed (their offsets are consumed again); {@link RecoveryBook#rollBack} says when
     * training goes on.
     */
    RecoveryBook.Rollback rollBack(double failedAt, double detectSeconds, double repairSeconds, double attemptStart) {
        int keep = book.checkpointStep();
        consumedBy.values().removeIf(k -> k >= keep);
        return book.rollBack(failedAt, detectSeconds, repairSeconds, attemptStart);
    }

    /** What faults cost the run, given its emulated {@code elapsedSeconds} and the duplicates its stages dropped. */
    RunResult.Recovery totals(double elapsedSeconds, long duplicatesDropped) {
        RecoveryBook.Totals t = book.totals(elapsedSeconds);
        return new RunResult.Recovery(t.recoveries(), t.replayedSteps(), t.lostWorkSeconds(), t.usefulSeconds(), t.elapsedSeconds(),
                duplicatesDropped, t.checkpoints(), t.checkpointSeconds());
    }

    /** The shared book's totals (what {@code pipelab goodput} computes for the same interruptions). */
    RecoveryBook.Totals book(double elapsedSeconds) {
        return book.totals(elapsedSeconds);
    }
}
