package dev.pipelab.numerics;

/**
 * Seeded synthetic data addressed by micro-batch index. Invariant: {@code microBatch(i)} is a pure function of
 * i (and the source's seed), so any replica, stage or replay asking for the same index gets the same bits.
 *
 * <p>Sharding (data-parallel replica r of d, m micro-batches per step): micro-batch mb of step k is
 * {@link #index index(k, r, mb, m, d)} = {@code k·m·d + r·m + mb}; it holds samples
 * {@code [index·b, index·b + b)}.
 */
public interface DataSource {

    /** Samples per micro-batch, b. */
    int microBatchSize();

    /** The micro-batch at {@code index}. */
    Batch microBatch(long index);

    /** The micro-batch index of (step, replica, micro-batch): {@code step·m·d + replica·m + mb}. */
    static long index(int step, int replica, int microBatch, int microBatches, int replicas) {
        return (long) step * microBatches * replicas + (long) replica * microBatches + microBatch;
    }
}
