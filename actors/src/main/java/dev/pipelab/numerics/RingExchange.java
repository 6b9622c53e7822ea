package dev.pipelab.numerics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One rank's side of {@link GradientAllReduce} when the ring's messages really travel (the actor runtime):
 * message {@code i} (0..2(d−1)−1) goes to rank r+1 and message {@code i} from rank r−1 comes in. Invariant: the
 * vector {@link #result} returns is, bit for bit, row r of {@link GradientAllReduce#ring} or
 * {@link GradientAllReduce#canonical} on the same inputs, whatever order the messages arrive in (received
 * messages are applied strictly in index order, lazily, when a send or the result needs them).
 *
 * <p>Ring: reduce-scatter message i carries this rank's partial sum of chunk {@code (r − i) mod d}; the receiver
 * adds its own ({@code received + own}). Canonical: reduce-scatter message i carries the raw contributions of
 * origin {@code r − i} for owners {@code r+1 .. r+(d−1−i)} (mod d), one chunk each, concatenated; the receiver
 * keeps the first piece (its own chunk's contribution of that origin) and relays the rest in message i+1; the
 * owner folds the d contributions in replica order. All-gather message d−1+k carries owned chunk
 * {@link GradientAllReduce#allGatherChunk}; the receiver copies it.
 */
public final class RingExchange {

    private final int rank;
    private final int ranks;
    private final boolean canonical;
    private double[] buf;
    private int n;
    private final double[][] raw;
    private double[] relay = new double[0];
    private final Map<Integer, double[]> received = new HashMap<>();
    private int applied;

    public RingExchange(int rank, int ranks, boolean canonical) {
        if (ranks < 2 || rank < 0 || rank >= ranks) throw new IllegalArgumentException("rank " + rank + " of " + ranks + " (need d >= 2)");
        this.rank = rank;
        this.ranks = ranks;
        this.canonical = canonical;
        this.raw = new double[ranks][];
    }

    /** Messages each rank sends: 2(d−1). */
    public int messages() { return 2 * (ranks - 1); }

    /** This rank's own gradient vector (flattened); before the first {@link #send}. */
    public void own(double[] vector) {
        if (buf != null) throw new IllegalStateException("own vector given twice");
        buf = vector.clone();
        n = buf.length;
        raw[rank] = chunk(buf, GradientAllReduce.ownedChunk(rank, ranks));
    }

    /** Message {@code index} from the left neighbour (applied when needed). */
    public void receive(int index, double[] payload) {
        if (index < 0 || index >= messages()) throw new IllegalArgumentException("ring message " + index + " of " + messages());
        if (received.putIfAbsent(index, payload) != null) throw new IllegalStateException("ring message " + index + " arrived twice");
    }

    /** The payload of message {@code index} to the right neighbour; needs messages 0..index−1 received. */
    public double[] send(int index) {
        if (buf == null) throw new IllegalStateException("send before the own vector");
        applyUpTo(index);
        int d = ranks;
        if (index < d - 1) {
            if (!canonical) return chunk(buf, GradientAllReduce.reduceScatterChunk(rank, index, d));
            if (index > 0) return relay;
            List<double[]> pieces = new ArrayList<>();
            for (int h = 1; h <= d - 1; h++) pieces.add(chunk(buf, GradientAllReduce.ownedChunk((rank + h) % d, d)));
            return concat(pieces);
        }
        return chunk(buf, GradientAllReduce.allGatherChunk(rank, index - (d - 1), d));
    }

    /** The all-reduced vector, once every message has been received. */
    public double[] result() {
        if (buf == null) throw new IllegalStateException("result before the own vector");
        applyUpTo(messages());
        return buf;
    }

    private void applyUpTo(int index) {
        int d = ranks;
        int left = Math.floorMod(rank - 1, d);
        while (applied < index) {
            double[] msg = received.get(applied);
            if (msg == null) throw new IllegalStateException("ring message " + applied + " has not arrived (rank " + rank + ")");
            int i = applied;
            if (i < d - 1) {
                if (canonical) {
                    int origin = Math.floorMod(left - i, d);
                    int c = GradientAllReduce.ownedChunk(rank, d);
                    int len = GradientAllReduce.start(c + 1, n, d) - GradientAllReduce.start(c, n, d);
                    raw[origin] = Arrays.copyOfRange(msg, 0, len);
                    relay = Arrays.copyOfRange(msg, len, msg.length);
                } else {
                    int c = GradientAllReduce.reduceScatterChunk(left, i, d);
                    int from = GradientAllReduce.start(c, n, d);
                    for (int j = 0; j < msg.length; j++) buf[from + j] = msg[j] + buf[from + j];
                }
            } else {
                int c = GradientAllReduce.allGatherChunk(left, i - (d - 1), d);
                System.arraycopy(msg, 0, buf, GradientAllReduce.start(c, n, d), msg.length);
            }
            applied++;
            if (applied == d - 1 && canonical) fold();
        }
    }

    /** The owner's replica-order fold {@code ((g0 + g1) + g2) + ...}, as {@link GradientAllReduce#canonical} does it. */
    private void fold() {
        int c = GradientAllReduce.ownedChunk(rank, ranks);
        double[] sum = raw[0].clone();
        for (int q = 1; q < ranks; q++) for (int i = 0; i < sum.length; i++) sum[i] += raw[q][i];
        System.arraycopy(sum, 0, buf, GradientAllReduce.start(c, n, ranks), sum.length);
    }

    private double[] chunk(double[] v, int c) {
        return Arrays.copyOfRange(v, GradientAllReduce.start(c, n, ranks), GradientAllReduce.start(c + 1, n, ranks));
    }

    private static double[] concat(List<double[]> pieces) {
        int len = 0;
        for (double[] p : pieces) len += p.length;
        double[] out = new double[len];
        int at = 0;
        for (double[] p : pieces) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
