package dev.pipelab.monitoring;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * What one rank of one replica did in one step (or in the mean step of a run). Invariant:
 * {@code idleSeconds = stepSeconds - busySeconds}, and {@code busySeconds} is the sum of {@code busySecondsByPhase}
 * up to rounding (the two are summed in different orders).
 *
 * @param busySecondsByPhase  compute seconds per phase; every phase present
 * @param busySeconds         compute seconds, summed as the evaluator sums them (optimizer first, then the
 *                            other spans in start order)
 * @param busyFraction        {@code busySeconds / stepSeconds}
 * @param idleSeconds         {@code stepSeconds - busySeconds}
 * @param liveMemoryBytes     bytes at the last memory change (static bytes when none was seen)
 * @param peakMemoryBytes     the most bytes at any memory change (static bytes when none was seen)
 * @param peakInFlight        the most (stage, micro-batch) pairs whose forward had started and whose last backward
 *                            had not ended, replaying spans in start order
 */
public record RankStats(int replica, int rank, Map<Phase, Double> busySecondsByPhase, double busySeconds,
                        double stepSeconds, double busyFraction, double idleSeconds, long liveMemoryBytes,
                        long peakMemoryBytes, int peakInFlight) {

    public RankStats {
        EnumMap<Phase, Double> copy = new EnumMap<>(Phase.class);
        for (Phase phase : Phase.values()) copy.put(phase, busySecondsByPhase.getOrDefault(phase, 0.0));
        busySecondsByPhase = Collections.unmodifiableMap(copy);
    }

    public double busySeconds(Phase phase) {
        return busySecondsByPhase.get(phase);
    }
}
