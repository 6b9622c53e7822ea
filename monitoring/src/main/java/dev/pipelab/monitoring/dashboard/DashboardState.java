package dev.pipelab.monitoring.dashboard;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pipelab.monitoring.Deployment;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.FaultSummary;
import dev.pipelab.monitoring.Ledger;
import dev.pipelab.monitoring.LinkStats;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RankStats;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.RunTelemetry;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.StepStats;
import dev.pipelab.monitoring.StepSummary;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntConsumer;

/**
 * What the live dashboard shows, updated once per completed step from its {@link StepSummary}. Invariant: every number
 * it shows is a number of a summary (or a sum of them in step order), so the dashboard, the metrics and the report
 * never disagree; views move at step ends only, since a step's records arrive at its end.
 *
 * <p>{@link #snapshot} reads a consistent state: per-rank numbers aggregated over replicas (so the payload has p rows,
 * not p·d), Gantt segments only for the requested replica and the last {@value #GANTT_STEPS} completed steps,
 * histories capped at {@value #HISTORY} entries. Utilisation of a (replica, rank) is its busy fraction in the latest
 * completed step. The state outlives the run: after {@link #finish()} it still answers snapshots. A cluster run's
 * snapshot names the worker JVM of every rank ({@code ranks[].nodes}, one {@code host:port} per replica) and the run's
 * {@code placement} and {@code workers}; an embedded run's has none of these keys. Faults and recovery come from the run's
 * latest {@link FaultSummary}: {@code faults} lists every marker on the run's axis (out-of-memory moments, injections,
 * heals, detections, recoveries) and {@code recovery} the faults panel (faults with their times, recoveries, goodput,
 * the ledger's verdict).
 */
public final class DashboardState implements RunTelemetry.Listener {

    static final int GANTT_STEPS = 3;
    static final int HISTORY = 1000;
    /** Beyond this many segments in the Gantt payload only the latest step's are sent. */
    static final int MAX_SEGMENTS = 40_000;

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Phase[] PHASES = Phase.values();

    private final RunInfo info;
    private final int p;
    private final int d;

    private record StepPoint(int step, double stepSeconds, double runSeconds, double samplesPerSecond,
                             double tokensPerSecond, double bubble) {}

    /** A moment on the run's axis: {@code type} is {@code oom}, {@code inject}, {@code heal}, {@code detect} or {@code recovered}. */
    private record Marker(double runSeconds, String type, String kind, String detail) {}

    /** Problems of an unbalanced ledger the snapshot lists; report.json has every one. */
    static final int PROBLEMS = 20;

    /** One link {@code from -> to} over replicas: run totals and the latest step's numbers. */
    private static final class LinkTotals {
        long bytes;
        double stall;
        int lastDepth;
        double lastThroughput;
    }

    /** The latest completed steps, oldest first: the Gantt window. */
    private final Deque<StepSummary> recent = new ArrayDeque<>();
    private final long[] liveMemory;
    private final long[] peakMemory;
    /** A link {@code from -> to} over replicas, ordered by from then to. */
    private record LinkKey(int from, int to) implements Comparable<LinkKey> {
        @Override
        public int compareTo(LinkKey o) {
            return from != o.from ? Integer.compare(from, o.from) : Integer.compare(to, o.to);
        }
    }

    private final TreeMap<LinkKey, LinkTotals> links = new TreeMap<>();
    private final Deque<StepPoint> history = new ArrayDeque<>();
    private final Deque<double[]> loss = new ArrayDeque<>();
    private final Deque<Marker> markers = new ArrayDeque<>();
    private FaultSummary faults = FaultSummary.NONE;
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

    /** Calls {@code listener} with the step number after each completed step (outside the state's lock). */
    public void onStepEnded(IntConsumer listener) {
        stepListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void stepSummarised(StepSummary summary) {
        synchronized (this) {
            version++;
            completed++;
            StepStats s = summary.stats();
            runSeconds = Math.max(runSeconds, s.runSeconds());
            history.addLast(new StepPoint(s.step(), s.stepSeconds(), s.runSeconds(), s.samplesPerSecond(),
                    s.tokensPerSecond(), s.bubbleFraction()));
            while (history.size() > HISTORY) history.removeFirst();
            for (RankStats r : summary.ranks()) {
                int i = r.replica() * p + r.rank();
                liveMemory[i] = r.liveMemoryBytes();
                peakMemory[i] = Math.max(peakMemory[i], r.peakMemoryBytes());
            }
            for (LinkTotals l : links.values()) {
                l.lastDepth = 0;
                l.lastThroughput = 0;
            }
            TreeMap<LinkKey, Long> stepBytes = new TreeMap<>();
            for (LinkStats l : summary.links()) {
                LinkKey key = new LinkKey(l.fromRank(), l.toRank());
                LinkTotals t = links.computeIfAbsent(key, k -> new LinkTotals());
                t.bytes += l.bytes();
                t.stall += l.stallSeconds();
                t.lastDepth = Math.max(t.lastDepth, l.maxQueueDepth());
                stepBytes.merge(key, l.bytes(), Long::sum);
            }
            stepBytes.forEach((key, bytes) -> links.get(key).lastThroughput = s.stepSeconds() > 0 ? bytes / s.stepSeconds() : 0);
            for (StepSummary.OutOfMemory o : summary.outOfMemory()) {
                marker(new Marker(summary.startSeconds() + o.atSeconds(), "oom", "out of memory", "replica " + o.replica()
                        + " rank " + o.rank() + ": " + o.bytes() + " of " + o.capacityBytes() + " bytes"));
            }
            recent.addLast(summary);
            while (recent.size() > GANTT_STEPS) recent.removeFirst();
        }
        for (IntConsumer l : stepListeners) l.accept(summary.step());
    }

    @Override
    public void lossReported(int step, double value) {
        loss(step, value);
    }

    /** Records the loss of a step (real-numerics runs). */
    public synchronized void loss(int step, double value) {
        version++;
        loss.addLast(new double[] {step, value});
        while (loss.size() > HISTORY) loss.removeFirst();
    }

    /** Keeps the run's latest fault summary: its faults, recoveries and goodput are drawn from it at each snapshot. */
    @Override
    public synchronized void faultsChanged(FaultSummary summary) {
        version++;
        faults = Objects.requireNonNull(summary, "summary");
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

    /** Changes with every summary, loss, fault and the finish; equal versions mean equal snapshots. */
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
        // a cluster run: the placement and its workers (host:port, in the coordinator's order); absent when embedded
        info.deployment().ifPresent(dep -> {
            run.put("placement", dep.strategy());
            ArrayNode workers = run.putArray("workers");
            dep.workers().forEach(w -> workers.add(Deployment.label(w)));
        });
        root.put("status", finished ? "finished" : "running");
        root.put("version", version);
        root.put("completedSteps", completed);
        root.put("runSeconds", runSeconds);
        ArrayNode phases = root.putArray("phases");
        for (Phase ph : PHASES) phases.add(ph.name());

        StepSummary util = recent.peekLast();
        root.put("utilisationStep", util == null ? -1 : util.step());
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
                double u = 0;
                if (util != null) {
                    RankStats stats = util.ranks().get(rp * p + rank);
                    for (int k = 0; k < PHASES.length; k++) byPhase[k] += stats.busySeconds(PHASES[k]) / d;
                    u = stats.busyFraction();
                }
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
            if (info.deployment().isPresent()) {
                ArrayNode nodes = r.putArray("nodes");
                for (int rp = 0; rp < d; rp++) nodes.add(info.deployment().get().label(rp, rank));
            }
        }

        ArrayNode linkArray = root.putArray("links");
        links.forEach((key, l) -> {
            ObjectNode o = linkArray.addObject();
            o.put("link", key.from() + "->" + key.to());
            o.put("bytes", l.bytes);
            o.put("throughputBytesPerSecond", l.lastThroughput);
            o.put("queueDepth", l.lastDepth);
            o.put("stallSeconds", l.stall);
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
        ArrayNode marks = root.putArray("faults");
        for (Marker m : faultMarkers()) {
            marks.addObject().put("runSeconds", m.runSeconds()).put("type", m.type()).put("kind", m.kind()).put("detail", m.detail());
        }
        recovery(root.putObject("recovery"));

        ObjectNode gantt = root.putObject("gantt");
        gantt.put("replica", rep);
        ArrayNode gsteps = gantt.putArray("steps");
        ArrayNode segments = gantt.putArray("segments");
        int total = 0;
        List<StepSummary> shown = new ArrayList<>();
        List<StepSummary> window = new ArrayList<>(recent);
        for (int i = window.size() - 1; i >= 0; i--) {
            StepSummary s = window.get(i);
            int n = 0;
            for (StageRecord r : s.ended().stages()) if (r.replica() == rep) n += r.actions().size();
            if (!shown.isEmpty() && total + n > MAX_SEGMENTS) break;
            shown.add(0, s);
            total += n;
        }
        for (StepSummary s : shown) {
            ObjectNode o = gsteps.addObject();
            o.put("step", s.step());
            o.put("runStart", s.startSeconds());
            o.put("seconds", s.stats().stepSeconds());
            o.put("ended", true);
            for (StageRecord r : s.ended().stages()) {
                if (r.replica() != rep) continue;
                for (StageRecord.Action a : r.actions()) {
                    segments.addArray().add(r.rank()).add(a.phase().ordinal()).add(a.microBatch())
                            .add(s.startSeconds() + a.startSeconds()).add(s.startSeconds() + a.endSeconds());
                }
            }
        }
        return root;
    }

    /**
     * Every marker on the run's axis, by time: out-of-memory moments (the latest {@value #HISTORY}), and each fault's
     * injection and heal and each recovery's detection and end, from the fault summary.
     */
    private List<Marker> faultMarkers() {
        List<Marker> out = new ArrayList<>(markers);
        for (FaultSummary.Fault f : faults.faults()) {
            out.add(new Marker(f.injectedAtSeconds(), "inject", f.kind(), f.description()));
            f.healedAtSeconds().ifPresent(t -> out.add(new Marker(t, "heal", f.kind(), f.target() + " healed")));
        }
        for (Event.Recovered r : faults.recoveries()) {
            String cause = r.fault() >= 0 ? "fault " + r.fault() + ": " : "";
            out.add(new Marker(r.detectedAtSeconds(), "detect", "failure detected", cause + r.reason().lines().findFirst().orElse("")));
            out.add(new Marker(r.recoveredAtSeconds(), "recovered", "recovered", "resumed from step " + r.resumedFromStep()
                    + ", replayed " + r.replayedSteps() + ", lost " + r.lostWorkSeconds() + " s"));
        }
        out.sort(Comparator.comparingDouble(Marker::runSeconds));
        return out;
    }

    /** The faults panel: every fault with its times, every recovery, checkpoints, goodput and the ledger's verdict. */
    private void recovery(ObjectNode o) {
        ArrayNode list = o.putArray("faults");
        for (FaultSummary.Fault f : faults.faults()) {
            ObjectNode x = list.addObject();
            x.put("index", f.index());
            x.put("kind", f.kind());
            x.put("target", f.target());
            x.put("description", f.description());
            x.put("injectedAtSeconds", f.injectedAtSeconds());
            orNull(x, "healedAtSeconds", f.healedAtSeconds());
            orNull(x, "detectedAtSeconds", f.detectedAtSeconds());
            orNull(x, "recoveredAtSeconds", f.recoveredAtSeconds());
            x.put("lostWorkSeconds", f.lostWorkSeconds());
        }
        ArrayNode recoveries = o.putArray("recoveries");
        for (Event.Recovered r : faults.recoveries()) {
            recoveries.addObject().put("attempt", r.step()).put("fault", r.fault()).put("reason", r.reason())
                    .put("failedAtSeconds", r.failedAtSeconds()).put("detectedAtSeconds", r.detectedAtSeconds())
                    .put("recoveredAtSeconds", r.recoveredAtSeconds()).put("resumedFromStep", r.resumedFromStep())
                    .put("replayedSteps", r.replayedSteps()).put("lostWorkSeconds", r.lostWorkSeconds());
        }
        o.put("checkpoints", faults.checkpoints().size());
        o.put("checkpointSeconds", faults.checkpointSeconds());
        o.put("replayedSteps", faults.replayedSteps());
        o.put("lostWorkSeconds", faults.lostWorkSeconds());
        // no fault, recovery or checkpoint yet: all time so far is useful
        o.put("goodput", faults == FaultSummary.NONE ? 1.0 : faults.goodput());
        o.put("elapsedSeconds", faults.elapsedSeconds());
        ObjectNode ledger = o.putObject("ledger");
        ledger.put("recorded", faults.ledger().isPresent());
        ledger.put("balanced", faults.balanced());
        ledger.put("trainingSteps", faults.ledger().map(Ledger::steps).orElse(0));
        ledger.put("verdict", faults.verdict());
        List<String> problems = faults.ledger().map(Ledger::problems).orElse(List.of());
        ledger.put("problemCount", problems.size());
        ArrayNode shown = ledger.putArray("problems");
        problems.subList(0, Math.min(PROBLEMS, problems.size())).forEach(shown::add);
    }

    private static void orNull(ObjectNode o, String key, OptionalDouble value) {
        if (value.isPresent()) o.put(key, value.getAsDouble());
        else o.putNull(key);
    }

    /** The snapshot as JSON text. */
    public String snapshotJson(int replica) {
        try {
            return MAPPER.writeValueAsString(snapshot(replica));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
