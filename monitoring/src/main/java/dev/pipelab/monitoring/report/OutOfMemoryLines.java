package dev.pipelab.monitoring.report;

import dev.pipelab.monitoring.StepSummary;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A run's out-of-memory moments as a reader takes them in: one line per distinct (step, rank, bytes needed, device
 * bytes), naming the replicas it happened on. Invariant: every moment is in exactly one line; lines are ordered by
 * step, rank, bytes needed and device bytes. Why: data-parallel replicas of a plan that does not fit all overflow
 * alike, so a line per replica and rank said the same thing 2,048 times on Llama 3 405B's layout.
 */
public final class OutOfMemoryLines {

    private OutOfMemoryLines() {}

    /** What the moments of one line share. */
    private record Key(int step, int rank, long bytes, long capacityBytes) {
        static final Comparator<Key> ORDER = Comparator.comparingInt(Key::step).thenComparingInt(Key::rank)
                .thenComparingLong(Key::bytes).thenComparingLong(Key::capacityBytes);
    }

    /**
     * The lines of {@code moments} of a run of {@code replicas} data-parallel replicas, e.g. "out of memory: step 0,
     * rank 15 of all 128 replicas needs 98.6 GB of 80.0 GB".
     */
    public static List<String> of(List<StepSummary.OutOfMemory> moments, int replicas) {
        Map<Key, SortedSet<Integer>> byKey = new TreeMap<>(Key.ORDER);
        for (StepSummary.OutOfMemory o : moments) {
            byKey.computeIfAbsent(new Key(o.step(), o.rank(), o.bytes(), o.capacityBytes()), k -> new TreeSet<>()).add(o.replica());
        }
        List<String> out = new ArrayList<>(byKey.size());
        byKey.forEach((k, on) -> out.add(String.format(Locale.ROOT, "out of memory: step %d, rank %d%s needs %s of %s", k.step(),
                k.rank(), where(on, replicas), gb(k.bytes()), gb(k.capacityBytes()))));
        return out;
    }

    /** Which replicas: all of them, or their ranges and how many of how many. */
    static String where(SortedSet<Integer> on, int replicas) {
        if (replicas <= 1) return "";
        if (on.size() == replicas) return " of all " + replicas + " replicas";
        String ranges = ranges(on);
        return on.size() == 1 ? " of replica " + ranges : " of replicas " + ranges + " (" + on.size() + " of " + replicas + ")";
    }

    /** Ascending numbers as ranges: {@code 0-3, 7, 9-10}. */
    static String ranges(SortedSet<Integer> xs) {
        StringBuilder s = new StringBuilder();
        Integer from = null;
        Integer to = null;
        for (int x : xs) {
            if (to != null && x == to + 1) {
                to = x;
                continue;
            }
            if (from != null) append(s, from, to);
            from = x;
            to = x;
        }
        if (from != null) append(s, from, to);
        return s.toString();
    }

    private static void append(StringBuilder s, int from, int to) {
        if (s.length() > 0) s.append(", ");
        s.append(from);
        if (to > from) s.append('-').append(to);
    }

    /** As the command line prints bytes: {@code 98.5 GB} (1e9 bytes). */
    private static String gb(long bytes) {
        return String.format(Locale.ROOT, "%,.1f GB", bytes / 1e9);
    }
}
