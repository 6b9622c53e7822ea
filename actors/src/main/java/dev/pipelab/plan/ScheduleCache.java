package dev.pipelab.plan;

import dev.pipelab.schedule.CompiledSchedule;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.Timeline;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Generated schedules, with recomputation inserted, and their compiled form, shared across search candidates
 * that differ only in costs (tensor width, sequence parallelism, partition, batch split with the same m). Not zb-1p
 * and zb-2p: they are built for each plan's own costs (Planner), so no two candidates share one. Invariant: a key maps
 * to one schedule value for the cache's life; safe for concurrent use.
 */
final class ScheduleCache {

    private record Key(String name, int p, int v, int m, boolean recompute) {}

    private final Map<Key, CompiledSchedule> compiled = new ConcurrentHashMap<>();

    /** A compiled schedule with per-stage durations (F, B, W, R, optimizer): all a free-network timeline depends on. */
    private record FreeKey(CompiledSchedule schedule, double[] durations) {
        @Override
        public boolean equals(Object o) {
            return o instanceof FreeKey k && k.schedule == schedule && Arrays.equals(k.durations, durations);
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(schedule) * 31 + Arrays.hashCode(durations);
        }
    }

    private final Map<FreeKey, double[]> free = new ConcurrentHashMap<>();

    /**
     * {step time, bubble fraction} of the free-network timeline for these durations, evaluated once (only the two
     * numbers are kept: whole timelines of thousands of candidates would fill the heap and the collector's time).
     */
    double[] free(CompiledSchedule schedule, double[] durations, Supplier<Timeline> evaluate) {
        return free.computeIfAbsent(new FreeKey(schedule, durations), k -> {
            Timeline t = evaluate.get();
            return new double[] {t.stepTimeSeconds(), t.bubbleFraction()};
        });
    }

    CompiledSchedule get(String name, int p, int v, int m, boolean recompute) {
        return compiled.computeIfAbsent(new Key(name, p, v, m, recompute), k -> {
            Schedule s = Schedules.byName(k.name(), k.p(), k.v(), k.m());
            return Evaluator.compile(k.recompute() ? s.withRecompute() : s);
        });
    }
}
