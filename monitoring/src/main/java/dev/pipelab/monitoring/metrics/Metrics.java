package dev.pipelab.monitoring.metrics;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunInfo;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The run's Prometheus metrics (DESIGN §7) on a registry of their own, fed as an {@link EventSink}. Invariant: every
 * counter only grows, and at each step boundary {@code busy + idle} seconds of every (stage, replica) equal the
 * emulated run time elapsed (the latest {@code StepEnded.runSeconds}): idle is topped up at each {@code StepEnded} by
 * exactly the part of the elapsed time that the rank's busy seconds of the ended steps do not cover.
 *
 * <p>Label {@code stage} is the pipeline rank (report.json's {@code stages[].index}); {@code link} is
 * {@code "from->to"} summed over replicas, so label sets stay small at 2,048 devices; no label ever holds a
 * micro-batch. Series are created on first use and cached, so a span costs an array read, a short synchronized
 * block on its rank and a lock-free add.
 *
 * <pre>
 * pipelab_stage_busy_seconds_total{stage,replica,phase}  compute seconds (phase F, B, W, R, OPT)
 * pipelab_stage_idle_seconds_total{stage,replica}        elapsed minus busy, at step ends
 * pipelab_stage_memory_bytes{stage,replica}              live bytes at the latest change
 * pipelab_stage_peak_memory_bytes{stage,replica}         the most bytes seen
 * pipelab_link_transferred_bytes_total{link}             bytes that arrived
 * pipelab_link_queue_depth{link}                         the deepest queue of the latest completed step (any replica)
 * pipelab_link_stall_seconds_total{link}                 seconds senders waited for credit
 * pipelab_step_duration_seconds                          histogram of step times (emulated seconds)
 * pipelab_last_step_duration_seconds                     the latest step's time
 * pipelab_steps_total                                    completed steps
 * pipelab_run_seconds                                    emulated run time at the latest step end
 * pipelab_bubble_ratio                                   idle stage-time / stage-time of the latest step
 * pipelab_samples_per_second                             samples of the latest step / its time
 * pipelab_faults_total{kind}                             faults injected ({@link #fault})
 * pipelab_out_of_memory_total                            out-of-memory events
 * pipelab_build_info{version}                            1
 * </pre>
 */
public final class Metrics implements EventSink {

    private static final Phase[] PHASES = Phase.values();
    /** Steps whose busy seconds a rank keeps apart at once (the running one, and one either side of it). */
    private static final int RING = 4;

    private final RunInfo info;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    private final Counter busy;
    private final Counter idle;
    private final Gauge memory;
    private final Gauge peakMemory;
    private final Counter linkBytes;
    private final Gauge linkQueue;
    private final Counter linkStall;
    private final Histogram stepDuration;
    private final Gauge lastStep;
    private final Counter steps;
    private final Gauge runSeconds;
    private final Gauge bubble;
    private final Gauge samplesPerSecond;
    private final Counter faults;
    private final Counter outOfMemory;

    /** Per (replica, rank): the cached series and the bookkeeping that keeps busy + idle = elapsed. */
    private final Rank[][] ranks;
    private final ConcurrentHashMap<Long, LinkSeries> links = new ConcurrentHashMap<>();
    /** Per step, link and replica: (ready, start) waiting intervals, for the queue depth at step end. */
    private final TreeMap<Integer, Map<String, Map<Integer, List<double[]>>>> queues = new TreeMap<>();
    private final TreeMap<Integer, Integer> microBatchesByStep = new TreeMap<>();
    private double elapsed;

    private record LinkSeries(String name, CounterDataPoint bytes, CounterDataPoint stall, GaugeDataPoint queue) {}

    private LinkSeries linkSeries(int from, int to) {
        return links.computeIfAbsent(((long) from << 32) | (to & 0xffffffffL), k -> {
            String name = link(from, to);
            return new LinkSeries(name, linkBytes.labelValues(name), linkStall.labelValues(name), linkQueue.labelValues(name));
        });
    }

    private static final class Rank {
        final CounterDataPoint[] busy = new CounterDataPoint[PHASES.length];
        CounterDataPoint idle; // set once in the constructor, before the sink is shared
        GaugeDataPoint memory;
        GaugeDataPoint peak;
        long peakBytes = Long.MIN_VALUE;
        double memoryAt = Double.NEGATIVE_INFINITY;
        int memoryStep = Integer.MIN_VALUE;
        /** Busy seconds of steps not ended yet: slot {@code step mod RING} holds step {@code openStep[slot]}. */
        final double[] openBusy = new double[RING];
        final int[] openStep = {-1, -1, -1, -1};
        /** Busy seconds of steps that ended before all their spans arrived (a late span), not yet accounted. */
        double lateBusy;
        /** Busy seconds of ended steps plus idle seconds counted so far. */
        double accounted;
    }

    /** Metrics of the run {@code info} describes, reporting {@code version} in {@code pipelab_build_info}. */
    public Metrics(RunInfo info, String version) {
        this.info = Objects.requireNonNull(info, "info");
        Objects.requireNonNull(version, "version");
        busy = Counter.builder().name("pipelab_stage_busy_seconds_total")
                .help("Emulated seconds a stage (pipeline rank) spent computing, per phase")
                .labelNames("stage", "replica", "phase").register(registry);
        idle = Counter.builder().name("pipelab_stage_idle_seconds_total")
                .help("Emulated seconds a stage waited; busy + idle = elapsed run time at each step end")
                .labelNames("stage", "replica").register(registry);
        memory = Gauge.builder().name("pipelab_stage_memory_bytes").help("Live bytes of a stage's device")
                .labelNames("stage", "replica").register(registry);
        peakMemory = Gauge.builder().name("pipelab_stage_peak_memory_bytes").help("The most bytes a stage's device held")
                .labelNames("stage", "replica").register(registry);
        linkBytes = Counter.builder().name("pipelab_link_transferred_bytes_total")
                .help("Bytes that crossed a link (from->to, summed over replicas)").labelNames("link").register(registry);
        linkQueue = Gauge.builder().name("pipelab_link_queue_depth")
                .help("The most transfers waiting on a link at once in the latest completed step").labelNames("link")
                .register(registry);
        linkStall = Counter.builder().name("pipelab_link_stall_seconds_total")
                .help("Emulated seconds senders waited for a receiver's credit").labelNames("link").register(registry);
        stepDuration = Histogram.builder().name("pipelab_step_duration_seconds")
                .help("Emulated seconds per training step").classicOnly()
                .classicExponentialUpperBounds(0.001, 2, 24).register(registry);
        lastStep = Gauge.builder().name("pipelab_last_step_duration_seconds")
                .help("Emulated seconds of the latest completed step").register(registry);
        steps = Counter.builder().name("pipelab_steps_total").help("Completed training steps").register(registry);
        runSeconds = Gauge.builder().name("pipelab_run_seconds")
                .help("Emulated run time at the latest step end").register(registry);
        bubble = Gauge.builder().name("pipelab_bubble_ratio")
                .help("Idle stage-time / total stage-time of the latest step").register(registry);
        samplesPerSecond = Gauge.builder().name("pipelab_samples_per_second")
                .help("Samples of the latest step per emulated second").register(registry);
        faults = Counter.builder().name("pipelab_faults_total").help("Faults injected, by kind")
                .labelNames("kind").register(registry);
        outOfMemory = Counter.builder().name("pipelab_out_of_memory_total")
                .help("Ranks whose live memory would exceed the device's").register(registry);
        Info build = Info.builder().name("pipelab_build_info").help("pipelab version").labelNames("version")
                .register(registry);
        build.setLabelValues(version);
        steps.inc(0);
        outOfMemory.inc(0);
        ranks = new Rank[info.data()][info.pipeline()];
        // every (stage, replica) exists from the start, so idle is reported for ranks that never computed
        for (int replica = 0; replica < info.data(); replica++) {
            for (int rank = 0; rank < info.pipeline(); rank++) {
                Rank r = new Rank();
                r.idle = idle.labelValues(Integer.toString(rank), Integer.toString(replica));
                ranks[replica][rank] = r;
            }
        }
    }

    public RunInfo info() {
        return info;
    }

    /** The registry holding only this run's metrics (e.g. to add it to a wider scrape). */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** The content type of {@link #writeTo}'s output. */
    public String contentType() {
        return writer.getContentType();
    }

    /** Writes the Prometheus text exposition of every metric to {@code out}. */
    public void writeTo(OutputStream out) throws IOException {
        writer.write(out, registry.scrape());
    }

    /** The Prometheus text exposition of every metric. */
    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Counts a fault injection of {@code kind} (e.g. {@code stage.crash}); the events carry no faults yet. */
    public void fault(String kind) {
        faults.labelValues(kind).inc();
    }

    @Override
    public void emit(Event event) {
        if (event instanceof Event.Batch b) {
            for (Event.Detail detail : b.details()) detail(detail);
        } else if (event instanceof Event.StepStarted s) {
            synchronized (this) {
                microBatchesByStep.put(s.step(), s.microBatches());
            }
        } else if (event instanceof Event.StepEnded s) {
            onStepEnded(s);
        } else if (event instanceof Event.OutOfMemory) {
            outOfMemory.inc();
        }
    }

    private void detail(Event.Detail event) {
        if (event instanceof Event.ActionSpan a) {
            onSpan(a);
        } else if (event instanceof Event.TransferSpan t) {
            onTransfer(t);
        } else if (event instanceof Event.CreditStall c) {
            double s = c.endSeconds() - c.startSeconds();
            if (s > 0) linkSeries(c.fromRank(), c.toRank()).stall().inc(s);
        } else if (event instanceof Event.MemoryChanged m) {
            onMemory(m);
        }
        // AllReduceSpan: communication, not stage compute; its bytes travel as TransferSpans of kind allreduce
    }

    private void onSpan(Event.ActionSpan a) {
        double seconds = a.seconds();
        if (!(seconds > 0)) return;
        Rank r = ranks[checkedReplica(a.replica(), a.rank())][a.rank()];
        CounterDataPoint series;
        synchronized (r) {
            series = r.busy[a.phase().ordinal()];
            if (series == null) {
                series = busy.labelValues(Integer.toString(a.rank()), Integer.toString(a.replica()), a.phase().name());
                r.busy[a.phase().ordinal()] = series;
            }
            int slot = Math.floorMod(a.step(), RING);
            if (r.openStep[slot] != a.step()) {
                // the slot held an older step that never ended (or a late span): count it at the next step end
                r.lateBusy += r.openBusy[slot];
                r.openBusy[slot] = 0;
                r.openStep[slot] = a.step();
            }
            r.openBusy[slot] += seconds;
        }
        series.inc(seconds);
    }

    private void onTransfer(Event.TransferSpan t) {
        LinkSeries l = linkSeries(t.fromRank(), t.toRank());
        if (t.bytes() > 0) l.bytes().inc((double) t.bytes());
        if (t.startSeconds() > t.readySeconds()) {
            synchronized (this) {
                queues.computeIfAbsent(t.step(), k -> new HashMap<>())
                        .computeIfAbsent(l.name(), k -> new HashMap<>())
                        .computeIfAbsent(t.replica(), k -> new ArrayList<>())
                        .add(new double[] {t.readySeconds(), t.startSeconds()});
            }
        }
    }

    private void onMemory(Event.MemoryChanged m) {
        Rank r = ranks[checkedReplica(m.replica(), m.rank())][m.rank()];
        synchronized (r) {
            if (r.memory == null) {
                String stage = Integer.toString(m.rank());
                String replica = Integer.toString(m.replica());
                r.memory = memory.labelValues(stage, replica);
                r.peak = peakMemory.labelValues(stage, replica);
            }
            // the latest change wins: by step, then by time within the step
            if (m.step() > r.memoryStep || (m.step() == r.memoryStep && m.atSeconds() >= r.memoryAt)) {
                r.memoryStep = m.step();
                r.memoryAt = m.atSeconds();
                r.memory.set(m.bytes());
            }
            if (m.bytes() > r.peakBytes) {
                r.peakBytes = m.bytes();
                r.peak.set(m.bytes());
            }
        }
    }

    private void onStepEnded(Event.StepEnded s) {
        double stepBusy = 0;
        synchronized (this) {
            elapsed = Math.max(elapsed, s.runSeconds());
            for (int replica = 0; replica < info.data(); replica++) {
                for (int k = 0; k < info.pipeline(); k++) {
                    Rank r = ranks[replica][k];
                    synchronized (r) {
                        for (int slot = 0; slot < RING; slot++) {
                            if (r.openStep[slot] >= 0 && r.openStep[slot] <= s.step()) {
                                r.accounted += r.openBusy[slot];
                                if (r.openStep[slot] == s.step()) stepBusy += r.openBusy[slot];
                                r.openBusy[slot] = 0;
                                r.openStep[slot] = -1;
                            }
                        }
                        r.accounted += r.lateBusy;
                        r.lateBusy = 0;
                        double missing = elapsed - r.accounted;
                        if (missing > 0) {
                            r.idle.inc(missing);
                            r.accounted += missing;
                        }
                    }
                }
            }
            // queue depth: the deepest of any replica in this step; links that did not queue show 0
            Map<String, Map<Integer, List<double[]>>> waits = queues.getOrDefault(s.step(), Map.of());
            for (LinkSeries l : links.values()) {
                int depth = 0;
                for (List<double[]> w : waits.getOrDefault(l.name(), Map.of()).values()) depth = Math.max(depth, maxDepth(w));
                l.queue().set(depth);
            }
            queues.headMap(s.step(), true).clear();
            int m = microBatchesByStep.getOrDefault(s.step(), info.microBatches());
            microBatchesByStep.headMap(s.step(), true).clear();
            steps.inc();
            stepDuration.observe(s.stepSeconds());
            lastStep.set(s.stepSeconds());
            runSeconds.set(elapsed);
            double total = (double) info.pipeline() * info.data() * s.stepSeconds();
            bubble.set(total > 0 ? (total - stepBusy) / total : 0);
            samplesPerSecond.set(s.stepSeconds() > 0 ? (double) info.microBatchSize() * m * info.data() / s.stepSeconds() : 0);
        }
    }

    /** The most intervals open at once; an interval that ends where another begins does not stack on it. */
    static int maxDepth(List<double[]> intervals) {
        List<double[]> points = new ArrayList<>();
        for (double[] i : intervals) {
            points.add(new double[] {i[0], +1});
            points.add(new double[] {i[1], -1});
        }
        points.sort((a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0]) : Double.compare(a[1], b[1]));
        int depth = 0;
        int max = 0;
        for (double[] p : points) {
            depth += (int) p[1];
            max = Math.max(max, depth);
        }
        return max;
    }

    private int checkedReplica(int replica, int rank) {
        if (replica < 0 || replica >= info.data() || rank < 0 || rank >= info.pipeline()) {
            throw new IllegalArgumentException("replica " + replica + " rank " + rank + " outside d=" + info.data()
                    + " p=" + info.pipeline());
        }
        return replica;
    }

    static String link(int from, int to) {
        return from + "->" + to;
    }
}
