package dev.pipelab.fault;

import java.util.List;

/**
 * What a run has for faults to hit: {@code replicas} pipelines of {@code ranks} stages, {@code steps} training steps,
 * the pipeline links that carry messages in its schedule ({@code links}, every replica's, in (replica, from, to)
 * order), whether replicas are joined by ring links ({@code rings}: the data-parallel all-reduce, so {@code replicas > 1}),
 * and its worker JVMs ({@code workers}: 0 for the embedded run, {@link #UNKNOWN_WORKERS} before a cluster run has
 * found them).
 */
public record RunShape(int replicas, int ranks, int steps, List<FaultTarget.Link> links, boolean rings, int workers) {

    /** The worker count of a run not yet deployed ({@code pipelab validate}): node targets cannot be checked. */
    public static final int UNKNOWN_WORKERS = -1;

    public RunShape {
        if (replicas < 1) throw new IllegalArgumentException("replicas must be >= 1, got " + replicas);
        if (ranks < 1) throw new IllegalArgumentException("ranks must be >= 1, got " + ranks);
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (workers < UNKNOWN_WORKERS) throw new IllegalArgumentException("workers must be >= 0 (or unknown), got " + workers);
        links = List.copyOf(links);
    }

    /**
     * The shape of a run whose every replica runs the same schedule: {@code outgoing.get(r)} lists the ranks rank
     * {@code r} sends messages to; a ring joins the replicas when there are several.
     */
    public static RunShape of(int replicas, int steps, List<List<Integer>> outgoing, int workers) {
        List<FaultTarget.Link> links = new java.util.ArrayList<>();
        for (int x = 0; x < replicas; x++) {
            for (int r = 0; r < outgoing.size(); r++) {
                for (int q : outgoing.get(r).stream().sorted().toList()) links.add(new FaultTarget.Link(x, r, q));
            }
        }
        return new RunShape(replicas, outgoing.size(), steps, links, replicas > 1, workers);
    }

    /** The same run on {@code workers} worker JVMs. */
    public RunShape withWorkers(int workers) {
        return new RunShape(replicas, ranks, steps, links, rings, workers);
    }

    /** Whether the worker count is known (the embedded run, or a cluster run that found its workers). */
    public boolean workersKnown() {
        return workers != UNKNOWN_WORKERS;
    }
}
