package dev.pipelab.monitoring.synthetic;

import dev.pipelab.monitoring.Deployment;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TransferKind;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * A synthetic GPipe run that list-schedules each step like the evaluator would: p ranks, d replicas, m micro-batches,
 * forward {@code f} seconds (times a seeded jitter), backward {@code 2f}, link time {@code 1.2f} plus latency
 * {@code 0.5f}, so transfers of one link queue, overlap each other and the compute. Invariant: the same arguments give the
 * same events; each step is a StepStarted and a StepEnded carrying the step's records ({@link StepBuilder}), its
 * actions never overlap on one rank, and {@code busyMicros} holds each pid's compute.
 */
public final class SyntheticRun {

    public static final long DEVICE_BYTES = 80_000_000_000L;
    public static final long STATIC_BYTES = 30_000_000_000L;
    public static final long ACTIVATION_BYTES = 4_000_000_000L;

    private final RunInfo info;
    private final double f;
    private final double jitter;
    private final Random random;
    private double runSeconds;
    private int step;
    /** Compute µs per pid (replica·p + rank + 1) over the steps generated so far. */
    public final Map<Integer, Double> busyMicros = new HashMap<>();

    public SyntheticRun(int pipeline, int data, int microBatches, double forwardSeconds, double jitter, long seed) {
        List<Integer> layers = new ArrayList<>();
        List<Long> statics = new ArrayList<>();
        for (int r = 0; r < pipeline; r++) {
            layers.add(4);
            statics.add(STATIC_BYTES);
        }
        this.info = new RunInfo("synthetic", "gpipe", pipeline, data, 1, 1, 8, microBatches, 2048, 1e15, 1.2e15, 1e15,
                DEVICE_BYTES, layers, statics);
        this.f = forwardSeconds;
        this.jitter = jitter;
        this.random = new Random(seed);
    }

    public RunInfo info() {
        return info;
    }

    /**
     * This run as if deployed on {@code workers} worker JVMs at {@code pekko://pipelab@127.0.0.1:25521, 25522, ...},
     * stage {@code replica·p + rank} on worker {@code (replica·p + rank) mod workers} (round-robin, like spread).
     */
    public RunInfo deployedOn(int workers) {
        List<String> addresses = new ArrayList<>();
        for (int w = 0; w < workers; w++) addresses.add("pekko://pipelab@127.0.0.1:" + (25521 + w));
        List<List<Integer>> workerOf = new ArrayList<>();
        for (int replica = 0; replica < info.data(); replica++) {
            List<Integer> ranks = new ArrayList<>();
            for (int rank = 0; rank < info.pipeline(); rank++) ranks.add((replica * info.pipeline() + rank) % workers);
            workerOf.add(ranks);
        }
        return info.with(new Deployment("spread", addresses, workerOf));
    }

    /** The events of the next step: its StepStarted, then its StepEnded with the step's records. */
    public List<Event> nextStep() {
        return nextStep(b -> { });
    }

    /** As {@link #nextStep()}, with what {@code extra} adds to the step's records (e.g. an out-of-memory moment). */
    public List<Event> nextStep(Consumer<StepBuilder> extra) {
        int p = info.pipeline();
        int m = info.microBatches();
        int k = step++;
        StepBuilder out = new StepBuilder(info, k);
        double stepEnd = 0;
        for (int replica = 0; replica < info.data(); replica++) {
            double[][] fEnd = new double[p][m];
            double[][] actArrive = new double[p][m];
            double[][] gradArrive = new double[p][m];
            double[] free = new double[p];
            double[] linkFree = new double[p];
            long[] live = new long[p];
            Arrays.fill(live, STATIC_BYTES);
            double link = 1.2 * f;
            double latency = 0.5 * f;
            for (int j = 0; j < m; j++) {
                for (int r = 0; r < p; r++) {
                    double start = Math.max(free[r], r == 0 ? 0 : actArrive[r][j]);
                    double end = start + f * (1 + jitter * random.nextDouble());
                    out.action(replica, r, r, Phase.F, j, start, end);
                    add(replica, r, end - start);
                    live[r] += ACTIVATION_BYTES;
                    out.memory(replica, r, end, live[r]);
                    free[r] = end;
                    fEnd[r][j] = end;
                    if (r + 1 < p) {
                        double ts = Math.max(linkFree[r], end);
                        linkFree[r] = ts + link;
                        actArrive[r + 1][j] = ts + link + latency;
                        out.transfer(replica, r, r + 1, TransferKind.ACTIVATION, r, j, 1L << 26, end, ts, ts + link + latency);
                    }
                }
            }
            double[] gradLinkFree = new double[p];
            for (int j = 0; j < m; j++) {
                for (int r = p - 1; r >= 0; r--) {
                    double start = Math.max(free[r], r == p - 1 ? fEnd[r][m - 1] : gradArrive[r][j]);
                    double end = start + 2 * f * (1 + jitter * random.nextDouble());
                    out.action(replica, r, r, Phase.B, j, start, end);
                    add(replica, r, end - start);
                    live[r] -= ACTIVATION_BYTES;
                    out.memory(replica, r, end, live[r]);
                    free[r] = end;
                    if (r > 0) {
                        double ts = Math.max(gradLinkFree[r], end);
                        gradLinkFree[r] = ts + link;
                        gradArrive[r - 1][j] = ts + link + latency;
                        out.transfer(replica, r, r - 1, TransferKind.GRADIENT, r, j, 1L << 26, end, ts, ts + link + latency);
                    }
                }
            }
            for (int r = 0; r < p; r++) {
                double start = free[r];
                if (info.data() > 1) {
                    double ar = 0.5 * f;
                    out.allReduce(replica, r, r, 1L << 30, start, start + ar);
                    start += ar;
                }
                double end = start + 0.25 * f;
                out.action(replica, r, r, Phase.OPT, -1, start, end);
                add(replica, r, end - start);
                stepEnd = Math.max(stepEnd, end);
            }
            if (p > 1) out.stall(replica, 0, 1, 0.5 * f, 0.6 * f);
        }
        extra.accept(out);
        long samples = (long) info.microBatchSize() * m * info.data();
        Event.StepStarted started = out.started(runSeconds, samples * k);
        runSeconds += stepEnd;
        return List.of(started, out.ended(stepEnd, runSeconds, samples * (k + 1)));
    }

    /** {@code steps} steps back to back. */
    public List<Event> steps(int steps) {
        List<Event> out = new ArrayList<>();
        for (int i = 0; i < steps; i++) out.addAll(nextStep());
        return out;
    }

    /** Every action, memory change, credit wait, all-reduce and transfer the steps of {@code events} recorded. */
    public static long spans(List<Event> events) {
        long n = 0;
        for (Event e : events) {
            if (!(e instanceof Event.StepEnded s)) continue;
            for (StageRecord r : s.stages()) {
                n += r.actions().size() + r.memory().size() + r.stalls().size() + r.allReduces().size();
            }
            n += transfers(List.of(s));
        }
        return n;
    }

    /** Every transfer the steps of {@code events} recorded. */
    public static long transfers(List<Event> events) {
        long n = 0;
        for (Event e : events) {
            if (e instanceof Event.StepEnded s) for (LinkRecord l : s.links()) n += l.transfers().size();
        }
        return n;
    }

    private void add(int replica, int rank, double seconds) {
        busyMicros.merge(replica * info.pipeline() + rank + 1, seconds * 1e6, Double::sum);
    }
}
