package dev.pipelab.cluster;

import java.util.List;
import java.util.Locale;

/**
 * Which worker JVM hosts each (replica, rank) stage: deployment only, so it never changes a virtual-time number.
 * Invariant: every stage gets a worker, and no worker gets more stages than its slots.
 */
public final class WorkerPlacement {

    /** How stages are spread over workers. */
    public enum Strategy {
        /**
         * Each replica's ranks together on as few workers as their slots allow; each replica starts on the worker with
         * the most free slots, so replicas land on different workers and mostly ring all-reduce chunks cross JVMs.
         */
        PACK,
        /** Round-robin over workers, stage by stage: the worst case for traffic between JVMs. */
        SPREAD;

        /** {@code pack} or {@code spread}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The strategy named {@code name}; an unknown name fails with the names it accepts. */
        public static Strategy of(String name) {
            for (Strategy s : values()) if (s.label().equals(name)) return s;
            throw new IllegalArgumentException("placement must be pack or spread, got '" + name + "'");
        }
    }

    private WorkerPlacement() {}

    /**
     * The worker index of each stage, as {@code [replica][rank]}, over workers offering {@code slots.get(w)} slots each.
     * Fails with a one-line reason when the workers offer fewer slots than the run has stages.
     */
    public static int[][] assign(Strategy strategy, List<Integer> slots, int data, int pipeline) {
        int workers = slots.size();
        if (workers == 0) throw new IllegalArgumentException("no workers to place on");
        long total = slots.stream().mapToLong(Integer::longValue).sum();
        if (total < (long) data * pipeline) {
            throw new IllegalArgumentException("the " + workers + " worker(s) offer " + total + " slots for " + data * pipeline
                    + " stages (" + data + " replicas x " + pipeline + " ranks): add workers or give them more --slots");
        }
        int[] free = slots.stream().mapToInt(Integer::intValue).toArray();
        int[][] node = new int[data][pipeline];
        int next = 0;
        for (int replica = 0; replica < data; replica++) {
            int current = strategy == Strategy.PACK ? mostFree(free) : -1;
            for (int rank = 0; rank < pipeline; rank++) {
                if (strategy == Strategy.PACK) {
                    if (free[current] == 0) current = mostFree(free);
                } else {
                    while (free[next % workers] == 0) next++;
                    current = next % workers;
                    next++;
                }
                free[current]--;
                node[replica][rank] = current;
            }
        }
        return node;
    }

    /** The placement as the runtime takes it. */
    public static NodePlacement of(int[][] node) {
        return (replica, rank) -> node[replica][rank];
    }

    /** The worker with the most free slots; the lowest index among equals. */
    private static int mostFree(int[] free) {
        int best = 0;
        for (int w = 1; w < free.length; w++) if (free[w] > free[best]) best = w;
        return best;
    }
}
