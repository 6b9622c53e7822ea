package dev.pipelab.schedule;

import java.util.ArrayList;
import java.util.List;

/**
 * A pipeline schedule as a value: for each rank (device), the ordered list of actions it runs in one
 * training step. Invariant (checked by {@link ScheduleValidator}, not here, so that a broken schedule can
 * still be shown): each model stage runs exactly {@code microBatches} F and B actions (and W where
 * {@code splitBackward}), a B after its own F and after the next stage's B, an F after the previous
 * stage's F, a W after its B.
 *
 * <p>The {@link StagePlacement} says which rank holds which model stage: Megatron's interleaved "loop" (stage k on rank
 * {@code k % ranks}) unless the schedule names another (the V of ZB-V and DualPipeV); with {@code virtualStages == 1}
 * stage and rank coincide.
 *
 * @param name           the generator's name ({@code gpipe}, {@code 1f1b}, ...) or {@code custom}
 * @param ranks          pipeline depth p (devices in one pipeline)
 * @param virtualStages  model chunks per rank v (1 except for interleaved schedules)
 * @param microBatches   micro-batches per step m
 * @param splitBackward  whether B computes only the input gradient and W the weight gradient
 * @param actionsByRank  for each rank, its actions in execution order
 * @param placement      which rank holds which model stage ({@code ranks · virtualStages} stages)
 */
public record Schedule(String name, int ranks, int virtualStages, int microBatches, boolean splitBackward,
                       List<List<Action>> actionsByRank, StagePlacement placement) {

    /** A schedule on Megatron's loop placement (stage k on rank k % ranks). */
    public Schedule(String name, int ranks, int virtualStages, int microBatches, boolean splitBackward,
                    List<List<Action>> actionsByRank) {
        this(name, ranks, virtualStages, microBatches, splitBackward, actionsByRank,
                StagePlacement.loop(Math.max(1, ranks), Math.max(1, virtualStages)));
    }

    public Schedule {
        if (ranks < 1) throw new IllegalArgumentException("ranks must be >= 1, got " + ranks);
        if (virtualStages < 1) throw new IllegalArgumentException("virtualStages must be >= 1, got " + virtualStages);
        if (microBatches < 1) throw new IllegalArgumentException("microBatches must be >= 1, got " + microBatches);
        if (actionsByRank.size() != ranks) {
            throw new IllegalArgumentException("expected one action list per rank (" + ranks + "), got " + actionsByRank.size());
        }
        List<List<Action>> copy = new ArrayList<>(ranks);
        for (List<Action> row : actionsByRank) copy.add(List.copyOf(row));
        actionsByRank = List.copyOf(copy);
        if (placement == null) throw new IllegalArgumentException("placement must be given");
        if (placement.ranks() != ranks || placement.virtualStages() != virtualStages) {
            throw new IllegalArgumentException("placement " + placement + " is for " + placement.ranks() + " ranks x "
                    + placement.virtualStages() + " stages, the schedule has " + ranks + " x " + virtualStages);
        }
    }

    /** Number of model stages, {@code ranks * virtualStages}. */
    public int stages() {
        return ranks * virtualStages;
    }

    /** The rank that runs model stage {@code stage}. */
    public int rankOf(int stage) {
        return placement.rankOf(stage);
    }

    /** The index of model stage {@code stage} among its rank's stages (ascending). */
    public int chunkOf(int stage) {
        return placement.chunkOf(stage);
    }

    /** The model stage that is chunk {@code chunk} of rank {@code rank}. */
    public int stageOf(int rank, int chunk) {
        return placement.stageOf(rank, chunk);
    }

    /** Actions of one rank, in order. */
    public List<Action> actions(int rank) {
        return actionsByRank.get(rank);
    }

    /** Total number of actions over all ranks. */
    public int size() {
        int n = 0;
        for (List<Action> row : actionsByRank) n += row.size();
        return n;
    }

    /**
     * This schedule with an explicit {@link Action.Kind#R} (recompute) action placed right before the first
     * backward action of every (stage, micro-batch) pair. Used when the recomputation policy makes the
     * backward re-run (part of) the forward. Idempotent.
     */
    public Schedule withRecompute() {
        List<List<Action>> rows = new ArrayList<>(ranks);
        for (List<Action> row : actionsByRank) {
            List<Action> out = new ArrayList<>(row.size() * 4 / 3 + 1);
            for (int i = 0; i < row.size(); i++) {
                Action a = row.get(i);
                boolean hasR = i > 0 && row.get(i - 1).kind() == Action.Kind.R
                        && row.get(i - 1).stage() == a.stage() && row.get(i - 1).microBatch() == a.microBatch();
                if (a.kind() == Action.Kind.B && !hasR) out.add(Action.r(a.stage(), a.microBatch()));
                out.add(a);
            }
            rows.add(out);
        }
        return new Schedule(name, ranks, virtualStages, microBatches, splitBackward, rows, placement);
    }
}
