package dev.pipelab.numerics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Data-parallel gradient summation over d replicas, as chunk messages around a ring (rank r sends only to
 * rank r+1 mod d). Invariant: every rank ends with the same vector, bit for bit, equal to the element-wise sum
 * of the d inputs; {@link #canonical} additionally equals the replica-order left fold
 * {@code ((g0 + g1) + g2) + ...} that {@link SequentialTrainer} computes.
 *
 * <p>{@link #ring} is the classic bandwidth-optimal ring (Patarasuk and Yuan 2009; the NCCL/Horovod ring): the
 * vector is cut into d chunks; reduce-scatter: in step k = 0..d-2, rank r sends its partial sum of chunk
 * {@code (r − k) mod d} to rank r+1, which adds its own contribution; after d−1 steps rank r holds the full sum
 * of chunk {@code (r+1) mod d}; all-gather: d−1 more steps pass the reduced chunks on, copying. 2(d−1) steps,
 * each moving one chunk per link. Chunk c is summed in the order {@code g_c + g_{c+1} + ... + g_{c−1}}
 * (indices mod d): a rotation of the replica order. Floating-point addition is commutative but not associative,
 * so this equals the canonical fold exactly for d ≤ 2 (and for chunk 0 always), but not in general for d ≥ 3:
 * there each element can differ by a few units in the last place (bounded by (d−1)·ε·Σ|g_r|, Higham 2002,
 * "Accuracy and Stability of Numerical Algorithms", §4.2).
 *
 * <p>{@link #canonical} keeps the ring's topology and its 2(d−1) steps but makes the order canonical: during
 * the reduce-scatter the ring relays each rank's raw chunk contributions (no partial sums) towards the chunk's
 * owner, who then folds the d contributions in replica order; the all-gather is the ring's. The price is
 * bandwidth: a link carries up to d−1 chunks in one reduce-scatter step (d(d−1)/2 chunk transfers per link
 * instead of d−1), identical to the ring for d = 2.
 */
public final class GradientAllReduce {

    private GradientAllReduce() {}

    /** Summed vectors per rank and what moved: steps and chunk transfers (one chunk over one link = 1). */
    public record Result(double[][] perRank, int steps, long chunkTransfers) {}

    /** Chunk c covers {@code [start(c), start(c+1))}: d nearly equal pieces (some empty when n < d). */
    public static int start(int chunk, int length, int ranks) {
        return (int) ((long) chunk * length / ranks);
    }

    /**
     * The chunk rank {@code rank} sends to rank+1 in reduce-scatter step k (0..d−2): {@code (rank − k) mod d}.
     * The receiver computes {@code received + own} element-wise, in that order, and sends that chunk on in
     * step k+1.
     */
    public static int reduceScatterChunk(int rank, int step, int ranks) {
        return Math.floorMod(rank - step, ranks);
    }

    /** The chunk rank {@code rank} owns, fully reduced, after the reduce-scatter: {@code (rank + 1) mod d}. */
    public static int ownedChunk(int rank, int ranks) {
        return (rank + 1) % ranks;
    }

    /** The chunk rank {@code rank} sends to rank+1 in all-gather step k (0..d−2); the receiver copies it. */
    public static int allGatherChunk(int rank, int step, int ranks) {
        return Math.floorMod(rank + 1 - step, ranks);
    }

    /** The real ring all-reduce: reduce-scatter of partial sums, then all-gather. */
    public static Result ring(List<double[]> vectors) {
        int d = vectors.size();
        int n = checkShapes(vectors);
        double[][] buf = new double[d][];
        for (int r = 0; r < d; r++) buf[r] = vectors.get(r).clone();
        long transfers = 0;
        int steps = 0;
        for (int k = 0; k < d - 1; k++, steps++) {
            // every rank sends simultaneously: take the messages before anyone adds
            double[][] msgs = new double[d][];
            for (int r = 0; r < d; r++) {
                int c = reduceScatterChunk(r, k, d);
                msgs[r] = Arrays.copyOfRange(buf[r], start(c, n, d), start(c + 1, n, d));
            }
            for (int r = 0; r < d; r++) {
                int to = (r + 1) % d;
                int c = reduceScatterChunk(r, k, d);
                int from = start(c, n, d);
                for (int i = 0; i < msgs[r].length; i++) buf[to][from + i] = msgs[r][i] + buf[to][from + i];
                transfers++;
            }
        }
        steps += allGather(buf, n, d);
        transfers += (long) d * (d - 1);
        return new Result(buf, steps, transfers);
    }

    /** The ring with a canonical summation order (see the class comment). */
    public static Result canonical(List<double[]> vectors) {
        int d = vectors.size();
        int n = checkShapes(vectors);
        double[][] buf = new double[d][];
        for (int r = 0; r < d; r++) buf[r] = vectors.get(r).clone();
        // raw[o][q]: owner o's copy of replica q's contribution to chunk (o+1) mod d, once it has arrived
        double[][][] raw = new double[d][d][];
        // in transit: pieces held at rank r, each {origin, owner}
        List<List<int[]>> held = new ArrayList<>();
        for (int r = 0; r < d; r++) {
            List<int[]> mine = new ArrayList<>();
            for (int o = 0; o < d; o++) if (o != r) mine.add(new int[] {r, o});
            held.add(mine);
            int c = (r + 1) % d;
            raw[r][r] = Arrays.copyOfRange(buf[r], start(c, n, d), start(c + 1, n, d));
        }
        long transfers = 0;
        int steps = 0;
        for (int k = 0; k < d - 1; k++, steps++) {
            List<List<int[]>> arriving = new ArrayList<>();
            for (int r = 0; r < d; r++) arriving.add(new ArrayList<>());
            for (int r = 0; r < d; r++) {
                int to = (r + 1) % d;
                for (int[] piece : held.get(r)) {
                    transfers++;
                    if (piece[1] == to) {
                        int c = (to + 1) % d;
                        raw[to][piece[0]] = Arrays.copyOfRange(buf[piece[0]], start(c, n, d), start(c + 1, n, d));
                    } else {
                        arriving.get(to).add(piece);
                    }
                }
            }
            held = arriving;
        }
        for (int o = 0; o < d; o++) {
            int c = (o + 1) % d;
            int from = start(c, n, d);
            double[] sum = raw[o][0].clone();
            for (int q = 1; q < d; q++) for (int i = 0; i < sum.length; i++) sum[i] += raw[o][q][i];
            System.arraycopy(sum, 0, buf[o], from, sum.length);
        }
        steps += allGather(buf, n, d);
        transfers += (long) d * (d - 1);
        return new Result(buf, steps, transfers);
    }

    /** After reduce-scatter rank r owns chunk (r+1) mod d; d−1 steps pass owned chunks on, copying. */
    private static int allGather(double[][] buf, int n, int d) {
        for (int k = 0; k < d - 1; k++) {
            double[][] msgs = new double[d][];
            for (int r = 0; r < d; r++) {
                int c = allGatherChunk(r, k, d);
                msgs[r] = Arrays.copyOfRange(buf[r], start(c, n, d), start(c + 1, n, d));
            }
            for (int r = 0; r < d; r++) {
                int c = allGatherChunk(r, k, d);
                System.arraycopy(msgs[r], 0, buf[(r + 1) % d], start(c, n, d), msgs[r].length);
            }
        }
        return d - 1;
    }

    private static int checkShapes(List<double[]> vectors) {
        if (vectors.isEmpty()) throw new IllegalArgumentException("all-reduce needs at least one replica");
        int n = vectors.get(0).length;
        for (int r = 1; r < vectors.size(); r++) {
            if (vectors.get(r).length != n) {
                throw new IllegalArgumentException("replica " + r + " has " + vectors.get(r).length + " gradient elements, replica 0 has " + n);
            }
        }
        return n;
    }
}
