package dev.pipelab.monitoring.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.LinkActivity;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RankActivity;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.util.LongMap;
import dev.pipelab.monitoring.util.QueueWaits;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntConsumer;

/**
 * What the live dashboard shows, folded incrementally from events. Invariant: a batch costs O(1) work plus one tight
 * loop over its primitive columns, under one short lock, and allocates nothing per span: busy seconds are added into
 * the step's array in the loop, and the Gantt keeps references to the recent steps' {@link RankActivity} batches
 * (immutable, so safe to hold) and turns them into segments only in {@link #snapshot}, for the requested replica. Why:
 * the state is fed on one thread that competes with the emulation for the same cores, about 100,000 spans a second.
 *
 * <p>{@link #snapshot} reads a consistent state: per-rank numbers aggregated over replicas (so the payload has p rows,
 * not p·d), Gantt segments only for the requested replica and the last {@value #GANTT_STEPS} steps, histories capped at
 * {@value #HISTORY} entries. A step reported in several batches per rank (wall-clock runs) gives the snapshot of one
 * batch per rank: busy seconds bit for bit, since a (replica, rank, phase) adds its spans in the rank's order either
 * way. What may differ: {@code version} (it counts events), the order of Gantt segments (arrival) and the last bits
 * of a link's stall seconds (its ranks' and replicas' waits add in arrival order).
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
        /** Busy seconds by (replica, rank, phase); each cell adds its spans in arrival order, as span by span did. */
        final double[] busy = new double[d * p * PHASES.length];
        /** Per replica, the step's batches that hold actions, in arrival order; null until the replica's first. */
        final List<RankActivity>[] gantt;
        /** Per replica, the actions in {@link #gantt}: the segments it would send, known without a pass over them. */
        final int[] segments = new int[d];
        /** Bytes by link id ({@link LinkTotals#id}); grows as links appear. */
        long[] linkBytes = new long[8];
        /** Waits by (replica, link id), see {@link #waitsKey}. */
        final LongMap<QueueWaits> waits = new LongMap<>();

        @SuppressWarnings("unchecked")
        StepAcc(int step) {
            this.step = step;
            this.gantt = new List[d];
        }

        void addGantt(int replica, RankActivity a) {
            if (gantt[replica] == null) gantt[replica] = new ArrayList<>();
            gantt[replica].add(a);
            segments[replica] += a.actions();
        }

        void addLinkBytes(int link, long bytes) {
            if (link >= linkBytes.length) {
                linkBytes = Arrays.copyOf(linkBytes, Math.max(link + 1, 2 * linkBytes.length));
            }
            linkBytes[link] += bytes;
        }

        QueueWaits waits(int replica, int link) {
            long key = waitsKey(replica, link);
            QueueWaits w = waits.get(key);
            if (w == null) {
                w = new QueueWaits();
                waits.put(key, w);
            }
            return w;
        }
    }

    private record StepPoint(int step, double stepSeconds, double runSeconds, double samplesPerSecond,
                             double tokensPerSecond, double bubble) {}

    private record Marker(double runSeconds, String kind, String detail) {}

    /** One link's totals over replicas; {@code id} numbers links densely in order of appearance. */
    private static final class LinkTotals {
        final int from;
        final int to;
        final int id;
        long bytes;
        double stall;
        int lastDepth;
        double lastThroughput;

        LinkTotals(int from, int to, int id) {
            this.from = from;
            this.to = to;
            this.id = id;
        }
    }

    /** The steps kept, ascending: the Gantt window and stragglers; a handful, so a linear search beats boxing a key. */
    private final List<StepAcc> steps = new ArrayList<>();
    private StepAcc lastEnded;
    private final long[] liveMemory;
    private final long[] peakMemory;
    private final LongMap<LinkTotals> links = new LongMap<>();
    /** The same links by id. */
    private final List<LinkTotals> linkList = new ArrayList<>();
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
            if (event instanceof RankActivity a) {
                rankActivity(a);
            } else if (event instanceof LinkActivity l) {
                linkActivity(l);
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

    /** Folds one rank's batch: the loops add straight into the state's arrays, in the order span by span would. */
    private void rankActivity(RankActivity a) {
        int replica = a.replica();
        int rank = a.rank();
        if (replica < 0 || replica >= d || rank < 0 || rank >= p) {
            throw new IllegalArgumentException("replica " + replica + " rank " + rank + " outside d=" + d + " p=" + p);
        }
        int n = a.actions();
        if (n > 0) {
            StepAcc s = step(a.step());
            double[] busy = s.busy;
            int base = (replica * p + rank) * PHASES.length;
            double lastEnd = s.lastEnd;
            for (int i = 0; i < n; i++) {
                busy[base + a.phase(i).ordinal()] += a.duration(i);
                lastEnd = Math.max(lastEnd, a.end(i));
            }
            s.lastEnd = lastEnd;
            s.addGantt(replica, a);
        }
        int m = a.memoryChanges();
        if (m > 0) {
            int i = replica * p + rank;
            long peak = peakMemory[i];
            for (int k = 0; k < m; k++) peak = Math.max(peak, a.memoryBytes(k));
            liveMemory[i] = a.memoryBytes(m - 1); // the latest in stream order, as span by span
            peakMemory[i] = peak;
        }
        int stalls = a.stalls();
        for (int k = 0; k < stalls; ) {
            // a rank's waits go to one or two neighbours: one lookup per run of the same link, not per wait
            int to = a.stallTo(k);
            LinkTotals l = link(rank, to);
            do {
                l.stall += a.stallEnd(k) - a.stallStart(k);
                k++;
            } while (k < stalls && a.stallTo(k) == to);
        }
        // all-reduces: communication, whose bytes the ring links report as transfers
    }

    /** Folds one link's batch: bytes summed in the loop, waits copied into the step's columns for its end. */
    private void linkActivity(LinkActivity l) {
        int n = l.transfers();
        if (n == 0) return;
        StepAcc s = step(l.step());
        LinkTotals t = link(l.fromRank(), l.toRank());
        long bytes = 0;
        QueueWaits waits = null;
        for (int i = 0; i < n; i++) {
            bytes += l.bytes(i);
            double ready = l.ready(i);
            double start = l.start(i);
            if (start > ready) {
                if (waits == null) waits = s.waits(l.replica(), t.id);
                waits.add(ready, start);
            }
        }
        t.bytes += bytes;
        s.addLinkBytes(t.id, bytes);
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
        int[] depth = new int[linkList.size()];
        s.waits.forEach((key, w) -> {
            int link = (int) key;
            depth[link] = Math.max(depth[link], w.maxDepth());
        });
        s.waits.clear();
        for (LinkTotals l : linkList) {
            long bytes = l.id < s.linkBytes.length ? s.linkBytes[l.id] : 0;
            l.lastThroughput = e.stepSeconds() > 0 ? bytes / e.stepSeconds() : 0;
            l.lastDepth = depth[l.id];
        }
        // keep the Gantt window: the last GANTT_STEPS steps (ended or running)
        while (steps.size() > GANTT_STEPS + 1 && steps.get(0).step < e.step()) steps.remove(0);
    }

    private StepAcc step(int step) {
        int i = steps.size() - 1;
        for (; i >= 0; i--) {
            StepAcc s = steps.get(i);
            if (s.step == step) return s;
            if (s.step < step) break;
        }
        // a straggler of a long-gone step gets its own accumulator, dropped at the next step end
        StepAcc s = new StepAcc(step);
        steps.add(i + 1, s);
        return s;
    }

    /** A replica above bit 32 and a link id below: a wait's key within its step. */
    private static long waitsKey(int replica, int link) {
        return ((long) replica << 32) | link;
    }

    private LinkTotals link(int from, int to) {
        long key = ((long) from << 32) | (to & 0xffffffffL);
        LinkTotals l = links.get(key);
        if (l == null) {
            l = new LinkTotals(from, to, linkList.size());
            links.put(key, l);
            linkList.add(l);
        }
        return l;
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

        StepAcc util = lastEnded != null ? lastEnded : (steps.isEmpty() ? null : steps.get(steps.size() - 1));
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
        List<LinkTotals> sorted = new ArrayList<>(linkList);
        sorted.sort(java.util.Comparator.<LinkTotals>comparingInt(l -> l.from).thenComparingInt(l -> l.to));
        for (LinkTotals l : sorted) {
            ObjectNode o = linkArray.addObject();
            o.put("link", l.from + "->" + l.to);
            o.put("bytes", l.bytes);
            o.put("throughputBytesPerSecond", l.lastThroughput);
            o.put("queueDepth", l.lastDepth);
            o.put("stallSeconds", l.stall);
        }

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
        int total = 0;
        List<StepAcc> shown = new ArrayList<>();
        for (int i = steps.size() - 1; i >= 0; i--) {
            StepAcc s = steps.get(i);
            if (shown.size() == GANTT_STEPS || Double.isNaN(s.runStart)) continue;
            int n = s.segments[rep];
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
            if (s.gantt[rep] == null) continue;
            for (RankActivity a : s.gantt[rep]) {
                for (int i = 0; i < a.actions(); i++) {
                    segments.addArray().add(a.rank()).add(a.phase(i).ordinal()).add(a.microBatch(i))
                            .add(s.runStart + a.start(i)).add(s.runStart + a.end(i));
                }
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
}
