package dev.pipelab.cluster;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Which worker JVM hosts each (replica, rank) stage: deployment only, so it never changes a virtual-time number.
 * Invariant: every stage gets a worker, and no worker gets more stages than its slots.
 *
 * <p>Workers are numbered in the order the coordinator sorts them ({@link Node#awaitWorkers}: by host, then port),
 * which is the order {@code pipelab run --cluster} prints them in and the numbering {@code explicit} takes. A link
 * lives with its sending stage ({@link NodePlacement}), so placing the stages places the links.
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
        SPREAD,
        /** The scenario's {@code cluster.workers}: the worker index of each (replica, rank), as the user wrote it. */
        EXPLICIT;

        /** {@code pack}, {@code spread} or {@code explicit}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The strategy named {@code name}; an unknown name fails with the names it accepts. */
        public static Strategy of(String name) {
            for (Strategy s : values()) if (s.label().equals(name)) return s;
            throw new IllegalArgumentException("placement must be pack, spread or explicit, got '" + name + "'");
        }
    }

    private WorkerPlacement() {}

    /**
     * The worker index of each stage, as {@code [replica][rank]}, over workers offering {@code slots.get(w)} slots each.
     * Fails with a one-line reason when the workers offer fewer slots than the run has stages.
     */
    public static int[][] assign(Strategy strategy, List<Integer> slots, int data, int pipeline) {
        if (strategy == Strategy.EXPLICIT) throw new IllegalArgumentException("explicit placement takes its map: use explicit(...)");
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

    /**
     * The user's map ({@code workers.get(replica).get(rank)} = worker index, the scenario's {@code cluster.workers},
     * whose shape the scenario loader checked) as {@code [replica][rank]}, checked against the workers found at run
     * time: every index names a worker and no worker gets more stages than its slots. Fails with a one-line reason
     * that names the entry ({@code cluster.workers[1][2]}) before anything runs.
     */
    public static int[][] explicit(List<List<Integer>> workers, List<Integer> slots, int data, int pipeline) {
        if (slots.isEmpty()) throw new IllegalArgumentException("no workers to place on");
        if (workers.size() != data) {
            throw new IllegalArgumentException("cluster.workers: must have one list per replica (" + data + "), got " + workers.size());
        }
        int[][] node = new int[data][pipeline];
        int[] used = new int[slots.size()];
        for (int replica = 0; replica < data; replica++) {
            List<Integer> ranks = workers.get(replica);
            if (ranks.size() != pipeline) {
                throw new IllegalArgumentException("cluster.workers[" + replica + "]: must have one worker index per rank ("
                        + pipeline + "), got " + ranks.size());
            }
            for (int rank = 0; rank < pipeline; rank++) {
                int w = ranks.get(rank);
                if (w < 0 || w >= slots.size()) {
                    throw new IllegalArgumentException("cluster.workers[" + replica + "][" + rank + "]: worker " + w
                            + " does not exist: the cluster has " + slots.size() + " worker(s), numbered 0.." + (slots.size() - 1)
                            + " in address order");
                }
                node[replica][rank] = w;
                used[w]++;
            }
        }
        for (int w = 0; w < slots.size(); w++) {
            if (used[w] > slots.get(w)) {
                throw new IllegalArgumentException("cluster.workers: puts " + used[w] + " stages on worker " + w + ", which offers "
                        + slots.get(w) + " slots: move some elsewhere or give it more --slots");
            }
        }
        return node;
    }

    /** The placement as the runtime takes it. */
    public static NodePlacement of(int[][] node) {
        return (replica, rank) -> node[replica][rank];
    }

    /**
     * {@code node} ({@code [replica][rank]}) over workers with {@code slots}, able to re-place the stages of lost
     * workers ({@link NodePlacement#without}) with {@link #replace}.
     */
    public static NodePlacement of(int[][] node, List<Integer> slots) {
        return new NodePlacement() {
            @Override
            public int node(int replica, int rank) {
                return node[replica][rank];
            }

            @Override
            public Optional<NodePlacement> without(Set<Integer> lost) {
                return replace(node, slots, lost).map(n -> of(n, slots));
            }
        };
    }

    /**
     * Moves every stage of the {@code lost} workers to the surviving worker with the most free slots (the lowest index
     * among equals), in replica then rank order, keeping every other stage where it is; empty when the survivors' free
     * slots are too few (docs/faults.md, Node faults).
     */
    public static Optional<int[][]> replace(int[][] node, List<Integer> slots, Set<Integer> lost) {
        int[] free = slots.stream().mapToInt(Integer::intValue).toArray();
        for (int w : lost) if (w >= 0 && w < free.length) free[w] = 0;
        int[][] out = new int[node.length][];
        for (int x = 0; x < node.length; x++) {
            out[x] = node[x].clone();
            for (int r = 0; r < node[x].length; r++) if (!lost.contains(node[x][r])) free[node[x][r]]--;
        }
        for (int x = 0; x < node.length; x++) {
            for (int r = 0; r < node[x].length; r++) {
                if (!lost.contains(node[x][r])) continue;
                int w = mostFree(free);
                if (free[w] <= 0) return Optional.empty();
                free[w]--;
                out[x][r] = w;
            }
        }
        return Optional.of(out);
    }

    /** The worker with the most free slots; the lowest index among equals. */
    private static int mostFree(int[] free) {
        int best = 0;
        for (int w = 1; w < free.length; w++) if (free[w] > free[best]) best = w;
        return best;
    }
}
