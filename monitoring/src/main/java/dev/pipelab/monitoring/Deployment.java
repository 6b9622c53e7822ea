package dev.pipelab.monitoring;

import java.util.List;
import java.util.Objects;

/**
 * Which worker JVM hosted each (replica, rank) of a cluster run: deployment only, so no number of the run depends on
 * it; the consumers only label with it. Invariant: {@code workerOf} has one list per replica of one index per rank,
 * and every index names one of {@code workers}.
 *
 * @param strategy how the placement was chosen: {@code pack}, {@code spread} or {@code explicit}
 * @param workers  the workers' cluster addresses ({@code pekko://pipelab@127.0.0.1:25521}) in the coordinator's order,
 *                 which numbers them for {@code explicit}
 * @param workerOf the worker index of each stage, {@code workerOf.get(replica).get(rank)}
 */
public record Deployment(String strategy, List<String> workers, List<List<Integer>> workerOf) {

    public Deployment {
        Objects.requireNonNull(strategy, "strategy");
        workers = List.copyOf(workers);
        workerOf = workerOf.stream().map(List::copyOf).toList();
        if (workers.isEmpty()) throw new IllegalArgumentException("workers must not be empty");
        if (workerOf.isEmpty()) throw new IllegalArgumentException("workerOf must have one list per replica, got none");
        int ranks = workerOf.get(0).size();
        for (int replica = 0; replica < workerOf.size(); replica++) {
            List<Integer> row = workerOf.get(replica);
            if (row.size() != ranks) {
                throw new IllegalArgumentException("workerOf[" + replica + "] must have " + ranks + " entries, got " + row.size());
            }
            for (int rank = 0; rank < ranks; rank++) {
                int w = row.get(rank);
                if (w < 0 || w >= workers.size()) {
                    throw new IllegalArgumentException("workerOf[" + replica + "][" + rank + "] must be within 0.."
                            + (workers.size() - 1) + ", got " + w);
                }
            }
        }
    }

    /** The worker index of rank {@code rank} of replica {@code replica}. */
    public int worker(int replica, int rank) {
        return workerOf.get(replica).get(rank);
    }

    /** The full cluster address of the worker hosting (replica, rank): report.json's {@code placement[].node}. */
    public String address(int replica, int rank) {
        return workers.get(worker(replica, rank));
    }

    /** The short label of the worker hosting (replica, rank): {@code host:port}, for the dashboard, metrics and trace. */
    public String label(int replica, int rank) {
        return label(address(replica, rank));
    }

    /**
     * {@code host:port} of an address: what follows the last {@code @} ({@code pekko://pipelab@127.0.0.1:25521} ->
     * {@code 127.0.0.1:25521}), since the scheme and the system name are the same for every node of a run.
     */
    public static String label(String address) {
        return address.substring(address.lastIndexOf('@') + 1);
    }
}
