package dev.pipelab.monitoring;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What one pipeline rank of one replica did in one step, recorded by its own stage actor and handed over once.
 * Invariant: the sums are those of the rank's own work in the step, whatever the {@link TelemetryLevel}; the span
 * lists ({@code actions}, {@code memory}, {@code stalls}) are empty below {@link TelemetryLevel#SPANS}. Times are
 * emulated seconds since the start of the step (every step starts at 0.0, as the analytic evaluator computes one).
 *
 * @param busySecondsByPhase  compute seconds per phase, each summed in start order; every phase present
 * @param busySeconds         compute seconds, summed as the evaluator sums them (optimizer first, then the other
 *                            actions in start order)
 * @param liveMemoryBytes     static plus live bytes at the step's last memory change (static bytes when none)
 * @param peakMemoryBytes     the most static plus live bytes at any moment of the step
 * @param peakInFlight        the most (stage, micro-batch) pairs whose forward had started and whose last backward
 *                            had not ended
 * @param stallSecondsByRank  seconds waited for the receiver's credit, by receiving rank (only ranks waited for)
 * @param allReduces          the data-parallel all-reduce of each of the rank's model stages that had one
 * @param outOfMemory         every moment the rank's memory exceeded the device's
 * @param actions             every compute action (the optimizer as {@link Phase#OPT}, stage -1, micro-batch -1),
 *                            in start order
 * @param memory              every change of static plus live bytes, in time order
 * @param stalls              every wait for credit, in the order they ended
 */
public record StageRecord(int step, int replica, int rank, Map<Phase, Double> busySecondsByPhase, double busySeconds,
                          long liveMemoryBytes, long peakMemoryBytes, int peakInFlight,
                          SortedMap<Integer, Double> stallSecondsByRank, List<AllReduce> allReduces,
                          List<OutOfMemory> outOfMemory, List<Action> actions, List<MemoryChange> memory,
                          List<CreditStall> stalls) {

    public StageRecord {
        EnumMap<Phase, Double> phases = new EnumMap<>(Phase.class);
        for (Phase phase : Phase.values()) phases.put(phase, busySecondsByPhase.getOrDefault(phase, 0.0));
        busySecondsByPhase = Collections.unmodifiableMap(phases);
        stallSecondsByRank = Collections.unmodifiableSortedMap(new TreeMap<>(stallSecondsByRank));
        allReduces = List.copyOf(allReduces);
        outOfMemory = List.copyOf(outOfMemory);
        actions = List.copyOf(actions);
        memory = List.copyOf(memory);
        stalls = List.copyOf(stalls);
    }

    /**
     * A compute action for one micro-batch of one model stage. {@code durationSeconds} is the action's exact duration
     * as the cost model gives it; {@code end - start} can differ from it in the last bit, so busy time adds durations.
     */
    public record Action(Phase phase, int stage, int microBatch, double startSeconds, double endSeconds,
                         double durationSeconds) {}

    /** Static plus live bytes of the rank after a change at {@code atSeconds}. */
    public record MemoryChange(double atSeconds, long bytes) {}

    /** The rank had work ready for {@code toRank} but waited for its credit from {@code startSeconds} to {@code endSeconds}. */
    public record CreditStall(int toRank, double startSeconds, double endSeconds) {}

    /** The data-parallel gradient all-reduce of model stage {@code stage}, seen from this replica. */
    public record AllReduce(int stage, long bytes, double startSeconds, double endSeconds) {}

    /** The rank's live memory would have been {@code bytes} at {@code atSeconds}; the device has {@code capacityBytes}. */
    public record OutOfMemory(int stage, double atSeconds, long bytes, long capacityBytes) {}
}
