package dev.pipelab.monitoring.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunInfo;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntConsumer;

/**
 * What the live dashboard shows, folded incrementally from events. Invariant: every event costs O(1) work under one
 * short lock (no per-event allocation beyond list slots for the recent steps' spans), and {@link #snapshot} reads a
 * consistent state: per-rank numbers aggregated over replicas (so the payload has p rows, not p·d), Gantt segments
 * only for the requested replica and the last {@value #GANTT_STEPS} steps, histories capped at
 * {@value #HISTORY} entries.
 *
 * <p>Utilisation of a (replica, rank) is busy seconds / step seconds of the latest completed step (of the running
 * step before any has completed). The state outlives the run: after {@link #finish()} it still answers snapshots.
 */
public final class DashboardState implements EventSink {

    static final int GANTT_STEPS = 3;
    static final int HISTORY = 1000;
    /** Beyond this many segments in the Gantt payload only the latest step's are sent. */
    static final int MAX_SEGMENTS = 40_000;

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Phase[] PHASES = Phase.values();

    private final RunInfo info;
    private final int p;
    private final int d;

    /** One step's accumulators. */
    private final class StepAcc {
        final int step;
        double runStart = Double.NaN;
        double stepSeconds = Double.NaN;
        double lastEnd;
        boolean ended;
        final double[] busy = new double[d * p * PHASES.length];
        final List<List<Event.ActionSpan>> spans = new ArrayList<>(d);
        final HashMap<Long, long[]> linkBytes = new HashMap<>(); // link key -> [bytes]
        final HashMap<Long, List<double[]>> queueWaits = new HashMap<>(); // link key -> waits of every replica, by replica
        final HashMap<Long, Integer> queueDepth = new HashMap<>();

        StepAcc(int step) {
            this.step = step;
            for (int i = 0; i < d; i++) spans.add(new ArrayList<>());
        }
    }

    private record StepPoint(int step, double stepSeconds, double runSeconds, double samplesPerSecond,
                             double tokensPerSecond, double bubble) {}

    private record Marker(double runSeconds, String kind, String detail) {}

    private record LinkTotals(int from, int to, long[] bytes, double[] stall, int[] lastDepth, double[] lastThroughput) {}

    private final TreeMap<Integer, StepAcc> steps = new TreeMap<>();
    private StepAcc lastEnded;
    private final long[] liveMemory;
    private final long[] peakMemory;
    private final HashMap<Long, LinkTotals> links = new HashMap<>();
    private final Deque<StepPoint> history = new ArrayDeque<>();
    private final Deque<double[]> loss = new ArrayDeque<>();
    private final Deque<Marker> markers = new ArrayDeque<>();
    private final List<IntConsumer> stepListeners = new CopyOnWriteArrayList<>();
    private long version;
    private boolean finished;
    private int completed;
    private double runSeconds;

    public DashboardState(RunInfo info) {
        this.info = Objects.requireNonNull(info, "info");
        this.p = info.pipeline();
        this.d = info.data();
        liveMemory = new long[p * d];
        peakMemory = new long[p * d];
        for (int replica = 0; replica < d; replica++) {
            for (int rank = 0; rank < p; rank++) {
                liveMemory[replica * p + rank] = info.staticBytesPerRank().get(rank);
                peakMemory[replica * p + rank] = info.staticBytesPerRank().get(rank);
            }
        }
    }

    public RunInfo info() {
        return info;
    }

    /** Calls {@code listener} with the step number after each {@code StepEnded} (outside the state's lock). */
    public void onStepEnded(IntConsumer listener) {
        stepListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void emit(Event event) {
        if (event instanceof Event.StepLoss l) {
            loss(l.step(), l.loss());
            return;
        }
        int endedStep = -1;
        synchronized (this) {
            version++;
            if (event instanceof Event.Batch b) {
                for (Event.Detail detail : b.details()) detail(detail);
            } else if (event instanceof Event.StepStarted s) {
                step(s.step()).runStart = s.runSeconds();
            } else if (event instanceof Event.StepEnded e) {
                onStepEnded(e);
                endedStep = e.step();
            } else if (event instanceof Event.OutOfMemory o) {
                StepAcc s = step(o.step());
                double at = (Double.isNaN(s.runStart) ? runSeconds : s.runStart) + o.atSeconds();
                marker(new Marker(at, "out of memory", "replica " + o.replica() + " rank " + o.rank() + ": "
                        + o.bytes() + " of " + o.capacityBytes() + " bytes"));
            }
        }
        if (endedStep >= 0) for (IntConsumer l : stepListeners) l.accept(endedStep);
    }

    private void detail(Event.Detail event) {
            if (event instanceof Event.ActionSpan a) {
                StepAcc s = step(a.step());
                s.busy[(a.replica() * p + a.rank()) * PHASES.length + a.phase().ordinal()] += a.seconds();
                s.spans.get(a.replica()).add(a);
                s.lastEnd = Math.max(s.lastEnd, a.endSeconds());
            } else if (event instanceof Event.TransferSpan t) {
                StepAcc s = step(t.step());
                long key = linkKey(t.fromRank(), t.toRank());
                s.linkBytes.computeIfAbsent(key, k -> new long[1])[0] += t.bytes();
                link(t.fromRank(), t.toRank()).bytes()[0] += t.bytes();
                if (t.startSeconds() > t.readySeconds()) {
                    // waits of one replica's link, keyed apart per replica: (replica, from, to)
                    s.queueWaits.computeIfAbsent(((long) t.replica() << 40) ^ key, k -> new ArrayList<>())
                            .add(new double[] {t.readySeconds(), t.startSeconds()});
                }
            } else if (event instanceof Event.CreditStall c) {
                link(c.fromRank(), c.toRank()).stall()[0] += c.endSeconds() - c.startSeconds();
            } else if (event instanceof Event.MemoryChanged m) {
                int i = m.replica() * p + m.rank();
                liveMemory[i] = m.bytes();
                peakMemory[i] = Math.max(peakMemory[i], m.bytes());
            }
    }

    private void onStepEnded(Event.StepEnded e) {
        StepAcc s = step(e.step());
        s.ended = true;
        s.stepSeconds = e.stepSeconds();
        if (Double.isNaN(s.runStart)) s.runStart = e.runSeconds() - e.stepSeconds();
        if (lastEnded == null || e.step() >= lastEnded.step) lastEnded = s;
        completed++;
        runSeconds = Math.max(runSeconds, e.runSeconds());
        double busy = 0;
        for (double b : s.busy) busy += b;
        double total = (double) p * d * e.stepSeconds();
        double samples = (double) info.microBatchSize() * info.microBatches() * d;
        double sps = e.stepSeconds() > 0 ? samples / e.stepSeconds() : 0;
        history.addLast(new StepPoint(e.step(), e.stepSeconds(), e.runSeconds(), sps, sps * info.seqLength(),
                total > 0 ? (total - busy) / total : 0));
        while (history.size() > HISTORY) history.removeFirst();
        HashMap<Long, Integer> depth = new HashMap<>();
        for (Map.Entry<Long, List<double[]>> w : s.queueWaits.entrySet()) {
            depth.merge(w.getKey() & LINK_MASK, maxDepth(w.getValue()), Math::max);
        }
        s.queueWaits.clear();
        for (Map.Entry<Long, LinkTotals> l : links.entrySet()) {
            long[] bytes = s.linkBytes.get(l.getKey());
            l.getValue().lastThroughput()[0] = bytes != null && e.stepSeconds() > 0 ? bytes[0] / e.stepSeconds() : 0;
            l.getValue().lastDepth()[0] = depth.getOrDefault(l.getKey(), 0);
        }
        // keep the Gantt window: the last GANTT_STEPS steps (ended or running)
        while (steps.size() > GANTT_STEPS + 1 && steps.firstKey() < e.step()) steps.pollFirstEntry();
    }

    private StepAcc step(int step) {
        StepAcc s = steps.get(step);
        if (s == null) {
            s = new StepAcc(step);
            steps.put(step, s);
            // a straggler of a long-gone step gets its own accumulator, dropped at the next step end
        }
        return s;
    }

    /** Ranks below 2^20 each, so a replica fits above bit 40 of a waits key. */
    private static final long LINK_MASK = (1L << 40) - 1;

    private static long linkKey(int from, int to) {
        return ((long) from << 20) | to;
    }

    private LinkTotals link(int from, int to) {
        return links.computeIfAbsent(linkKey(from, to), k -> new LinkTotals(from, to, new long[1], new double[1], new int[1],
                new double[1]));
    }

    /** Records the loss of a step (real-numerics runs); the events do not carry it. */
    public synchronized void loss(int step, double value) {
        version++;
        loss.addLast(new double[] {step, value});
        while (loss.size() > HISTORY) loss.removeFirst();
    }

    /** Marks a fault (injection or heal) at {@code runSeconds} of the run; the events do not carry faults yet. */
    public synchronized void fault(double runSeconds, String kind, String target) {
        version++;
        marker(new Marker(runSeconds, kind, target));
    }

    private void marker(Marker m) {
        markers.addLast(m);
        while (markers.size() > HISTORY) markers.removeFirst();
    }

    /** Marks the run finished: the state keeps answering, and snapshots say {@code "status":"finished"}. */
    public synchronized void finish() {
        version++;
        finished = true;
    }

    public synchronized boolean finished() {
        return finished;
    }

    /** Changes with every accepted event; equal versions mean equal snapshots. */
    public synchronized long version() {
        return version;
    }

    /** The dashboard's JSON state with the Gantt of {@code replica} (clamped into 0..d-1). */
    public synchronized ObjectNode snapshot(int replica) {
        int rep = Math.max(0, Math.min(d - 1, replica));
        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode run = root.putObject("run");
        run.put("name", info.name());
        run.put("schedule", info.schedule());
        run.put("pipeline", p);
        run.put("data", d);
        run.put("tensor", info.tensor());
        run.put("virtualStages", info.virtualStages());
        run.put("microBatches", info.microBatches());
        run.put("microBatchSize", info.microBatchSize());
        run.put("seqLength", info.seqLength());
        run.put("devices", info.devices());
        run.put("clock", info.clock());
        run.put("speed", info.speed());
        run.put("deviceMemoryBytes", info.deviceMemoryBytes());
        root.put("status", finished ? "finished" : "running");
        root.put("version", version);
        root.put("completedSteps", completed);
        root.put("runSeconds", runSeconds);
        ArrayNode phases = root.putArray("phases");
        for (Phase ph : PHASES) phases.add(ph.name());

        StepAcc util = lastEnded != null ? lastEnded : (steps.isEmpty() ? null : steps.lastEntry().getValue());
        double utilSeconds = util == null ? 0 : (util.ended ? util.stepSeconds : util.lastEnd);
        root.put("utilisationStep", util == null ? -1 : util.step);
        ArrayNode ranks = root.putArray("ranks");
        for (int rank = 0; rank < p; rank++) {
            ObjectNode r = ranks.addObject();
            r.put("rank", rank);
            double sum = 0;
            double min = Double.POSITIVE_INFINITY;
            double max = 0;
            double[] byPhase = new double[PHASES.length];
            long live = 0;
            long peak = 0;
            for (int rp = 0; rp < d; rp++) {
                double busy = 0;
                if (util != null) {
                    for (int k = 0; k < PHASES.length; k++) {
                        double b = util.busy[(rp * p + rank) * PHASES.length + k];
                        busy += b;
                        byPhase[k] += b / d;
                    }
                }
                double u = utilSeconds > 0 ? busy / utilSeconds : 0;
                sum += u;
                min = Math.min(min, u);
                max = Math.max(max, u);
                live = Math.max(live, liveMemory[rp * p + rank]);
                peak = Math.max(peak, peakMemory[rp * p + rank]);
            }
            r.put("utilisation", sum / d);
            r.put("utilisationMin", min);
            r.put("utilisationMax", max);
            ObjectNode busy = r.putObject("busySeconds");
            for (int k = 0; k < PHASES.length; k++) busy.put(PHASES[k].name(), byPhase[k]);
            r.put("memoryBytes", live);
            r.put("peakMemoryBytes", peak);
            r.put("capacityBytes", info.deviceMemoryBytes());
        }

        ArrayNode linkArray = root.putArray("links");
        List<LinkTotals> sorted = new ArrayList<>(links.values());
        sorted.sort(java.util.Comparator.comparingInt(LinkTotals::from).thenComparingInt(LinkTotals::to));
        sorted.forEach(l -> {
            ObjectNode o = linkArray.addObject();
            o.put("link", l.from() + "->" + l.to());
            o.put("bytes", l.bytes()[0]);
            o.put("throughputBytesPerSecond", l.lastThroughput()[0]);
            o.put("queueDepth", l.lastDepth()[0]);
            o.put("stallSeconds", l.stall()[0]);
        });

        ArrayNode stepArray = root.putArray("steps");
        for (StepPoint s : history) {
            ObjectNode o = stepArray.addObject();
            o.put("step", s.step());
            o.put("stepSeconds", s.stepSeconds());
            o.put("runSeconds", s.runSeconds());
            o.put("samplesPerSecond", s.samplesPerSecond());
            o.put("tokensPerSecond", s.tokensPerSecond());
            o.put("bubble", s.bubble());
        }
        ArrayNode lossArray = root.putArray("loss");
        for (double[] l : loss) lossArray.addObject().put("step", (int) l[0]).put("value", l[1]);
        ArrayNode faults = root.putArray("faults");
        for (Marker m : markers) faults.addObject().put("runSeconds", m.runSeconds()).put("kind", m.kind()).put("detail", m.detail());

        ObjectNode gantt = root.putObject("gantt");
        gantt.put("replica", rep);
        ArrayNode gsteps = gantt.putArray("steps");
        ArrayNode segments = gantt.putArray("segments");
        List<StepAcc> window = new ArrayList<>(steps.descendingMap().values());
        int total = 0;
        List<StepAcc> shown = new ArrayList<>();
        for (StepAcc s : window) {
            if (shown.size() == GANTT_STEPS || Double.isNaN(s.runStart)) continue;
            int n = s.spans.get(rep).size();
            if (!shown.isEmpty() && total + n > MAX_SEGMENTS) break;
            shown.add(0, s);
            total += n;
        }
        for (StepAcc s : shown) {
            ObjectNode o = gsteps.addObject();
            o.put("step", s.step);
            o.put("runStart", s.runStart);
            o.put("seconds", s.ended ? s.stepSeconds : s.lastEnd);
            o.put("ended", s.ended);
            for (Event.ActionSpan a : s.spans.get(rep)) {
                ArrayNode seg = segments.addArray();
                seg.add(a.rank()).add(a.phase().ordinal()).add(a.microBatch())
                        .add(s.runStart + a.startSeconds()).add(s.runStart + a.endSeconds());
            }
        }
        return root;
    }

    /** The snapshot as JSON text. */
    public String snapshotJson(int replica) {
        try {
            return MAPPER.writeValueAsString(snapshot(replica));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static int maxDepth(List<double[]> waits) {
        List<double[]> points = new ArrayList<>();
        for (double[] w : waits) {
            points.add(new double[] {w[0], +1});
            points.add(new double[] {w[1], -1});
        }
        points.sort((a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0]) : Double.compare(a[1], b[1]));
        int depth = 0;
        int max = 0;
        for (double[] q : points) {
            depth += (int) q[1];
            max = Math.max(max, depth);
        }
        return max;
    }
}
