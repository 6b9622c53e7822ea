package dev.pipelab.schedule;

import java.util.HashSet;
import java.util.Set;

/**
 * A micro-batch is in flight on a stage from its F to its B in the order the stage's rank lists them (an R in
 * between does not count again), so these counts depend only on the schedule value, never on timing. The
 * evaluator's {@code Timeline.peakInFlight} instead holds a split backward's micro-batch until its W ends.
 */
public final class InFlight {

    private InFlight() {}

    /** The most micro-batches in flight at once on model stage {@code stage} (F done, B not yet done). */
    public static int peak(Schedule schedule, int stage) {
        if (stage < 0 || stage >= schedule.stages()) {
            throw new IllegalArgumentException("stage must be in [0, " + schedule.stages() + "), got " + stage);
        }
        Set<Integer> open = new HashSet<>();
        int peak = 0;
        for (Action a : schedule.actions(schedule.rankOf(stage))) {
            if (a.stage() != stage) continue;
            if (a.kind() == Action.Kind.F) open.add(a.microBatch());
            else if (a.kind() == Action.Kind.B) open.remove(a.microBatch());
            peak = Math.max(peak, open.size());
        }
        return peak;
    }

    /**
     * The most (stage, micro-batch) pairs in flight at once on rank {@code rank}, over all its model stages
     * (with interleaving a rank's chunks stash at the same time).
     */
    public static int peakOnRank(Schedule schedule, int rank) {
        if (rank < 0 || rank >= schedule.ranks()) {
            throw new IllegalArgumentException("rank must be in [0, " + schedule.ranks() + "), got " + rank);
        }
        Set<Action> open = new HashSet<>();
        int peak = 0;
        for (Action a : schedule.actions(rank)) {
            if (a.kind() == Action.Kind.F) open.add(Action.b(a.stage(), a.microBatch()));
            else if (a.kind() == Action.Kind.B) open.remove(a);
            peak = Math.max(peak, open.size());
        }
        return peak;
    }

    /** {@link #peak} for every model stage, indexed by stage. */
    public static int[] peakByStage(Schedule schedule) {
        int[] out = new int[schedule.stages()];
        for (int s = 0; s < out.length; s++) out[s] = peak(schedule, s);
        return out;
    }
}
