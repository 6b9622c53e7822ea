package dev.pipelab.numerics;

import dev.pipelab.model.Recompute;
import dev.pipelab.schedule.Action;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.ScheduleText;
import org.ejml.data.DMatrixRMaj;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs one replica's step of a {@link Schedule} over real stage shards, single-threaded. Invariant: each rank
 * executes exactly its own actions in the schedule's order, an action runs only once its input message has
 * arrived, and tensors move between stages only as encoded messages ({@link TensorCodec}) — so the result is
 * what the actor runtime will compute, and it equals {@link SequentialTrainer}'s bits.
 *
 * <p>Interleaving: ranks are visited round-robin; each runs actions while the next one is ready (F: the
 * previous stage's activation for that micro-batch has arrived; B: the next stage's gradient has arrived;
 * R and W: local). A full round with no progress is a deadlock and is reported with the schedule grid.
 */
public final class PipelineExecutor {

    private final Schedule schedule;
    private final Recompute policy;

    public PipelineExecutor(Schedule schedule, Recompute policy) {
        this.schedule = schedule;
        this.policy = policy;
        if (policy != Recompute.NONE && !hasRecompute(schedule)) {
            throw new IllegalArgumentException("recompute=" + policy.scenarioName() + " needs R actions before each B: use "
                    + schedule.name() + ".withRecompute()");
        }
    }

    private static boolean hasRecompute(Schedule s) {
        for (List<Action> row : s.actionsByRank()) for (Action a : row) if (a.kind() == Action.Kind.R) return true;
        return false;
    }

    /**
     * What one replica's step left.
     *
     * @param gradients     per model stage, the weight gradients summed in micro-batch order
     * @param losses        per micro-batch, the mean loss of that micro-batch
     * @param order         the actions in the order they ran
     * @param messages      tensor messages sent between stages
     * @param messageBytes  their encoded bytes
     * @param largestMessageBytes the largest one (compare with {@link TensorCodec#fitsFrame})
     * @param peakStash     per model stage, the most micro-batches stashed at once (awaiting B or W)
     * @param peakInFlight  per model stage, the most micro-batches forwarded but not yet through B
     */
    public record StepResult(List<List<DMatrixRMaj>> gradients, double[] losses, List<Action> order, long messages,
                             long messageBytes, long largestMessageBytes, int[] peakStash, int[] peakInFlight) {}

    /** Runs one step of replica {@code replica} of {@code replicas}; shards are indexed by model stage. */
    public StepResult run(List<StageShard> shards, DataSource data, int step, int replica, int replicas) {
        int stages = schedule.stages();
        int m = schedule.microBatches();
        if (shards.size() != stages) {
            throw new IllegalArgumentException("schedule " + schedule.name() + " has " + stages + " model stages, got " + shards.size() + " shards");
        }
        List<StageRunner> runners = new ArrayList<>(stages);
        for (StageShard s : shards) runners.add(new StageRunner(s, policy, schedule.splitBackward(), m, replicas));
        Map<Long, byte[]> activations = new HashMap<>();
        Map<Long, byte[]> gradients = new HashMap<>();
        Map<Integer, Batch> batches = new HashMap<>();
        int[] next = new int[schedule.ranks()];
        List<Action> order = new ArrayList<>(schedule.size());
        long messages = 0;
        long bytes = 0;
        long largest = 0;
        DMatrixRMaj none = new DMatrixRMaj(0, 0);
        while (order.size() < schedule.size()) {
            boolean progress = false;
            for (int r = 0; r < schedule.ranks(); r++) {
                List<Action> row = schedule.actions(r);
                while (next[r] < row.size()) {
                    Action a = row.get(next[r]);
                    int s = a.stage();
                    int mb = a.microBatch();
                    long key = (long) s * m + mb;
                    boolean ready = switch (a.kind()) {
                        case F -> s == 0 || activations.containsKey(key - m);
                        case B -> s == stages - 1 || gradients.containsKey(key + m);
                        case R, W -> true;
                    };
                    if (!ready) break;
                    StageRunner runner = runners.get(s);
                    byte[] sent = null;
                    switch (a.kind()) {
                        case F -> {
                            Batch batch = s == 0 || s == stages - 1
                                    ? batches.computeIfAbsent(mb, i -> data.microBatch(DataSource.index(step, replica, i, m, replicas)))
                                    : null;
                            DMatrixRMaj input = s == 0 ? batch.inputs() : TensorCodec.decode(activations.remove(key - m));
                            DMatrixRMaj out = runner.forward(mb, input, s == stages - 1 ? batch.targets() : none);
                            if (s < stages - 1) {
                                sent = TensorCodec.encode(out);
                                activations.put(key, sent);
                            }
                        }
                        case B -> {
                            DMatrixRMaj dY = s < stages - 1 ? TensorCodec.decode(gradients.remove(key + m)) : none;
                            DMatrixRMaj dX = runner.backward(mb, dY);
                            if (s > 0) {
                                sent = TensorCodec.encode(dX);
                                gradients.put(key, sent);
                            }
                        }
                        case R -> runner.recompute(mb);
                        case W -> runner.weight(mb);
                    }
                    order.add(a);
                    next[r]++;
                    progress = true;
                    if (sent != null) {
                        messages++;
                        bytes += sent.length;
                        largest = Math.max(largest, sent.length);
                    }
                }
            }
            if (!progress) {
                throw new IllegalStateException("schedule " + schedule.name() + " deadlocks: no rank can run its next action"
                        + " (next indices " + Arrays.toString(next) + ")\n" + ScheduleText.grid(schedule));
            }
        }
        List<List<DMatrixRMaj>> sums = new ArrayList<>(stages);
        int[] peak = new int[stages];
        int[] inFlight = new int[stages];
        for (int s = 0; s < stages; s++) {
            sums.add(runners.get(s).gradientSum());
            peak[s] = runners.get(s).stash().peak();
            inFlight[s] = runners.get(s).stash().peakAwaitingBackward();
        }
        return new StepResult(sums, runners.get(stages - 1).losses(), order, messages, bytes, largest, peak, inFlight);
    }
}
