package dev.pipelab.monitoring.metrics;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.LinkActivity;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RankActivity;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.util.LongMap;
import dev.pipelab.monitoring.util.QueueWaits;
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
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The run's Prometheus metrics (DESIGN §7) on a registry of their own, fed as an {@link EventSink}. Invariant: every
 * counter only grows, and at each step boundary {@code busy + idle} seconds of every (stage, replica) equal the
 * emulated run time elapsed (the latest {@code StepEnded.runSeconds}): idle is topped up at each {@code StepEnded} by
 * exactly the part of the elapsed time that the rank's busy seconds of the ended steps do not cover.
 *
 * <p>Label {@code stage} is the pipeline rank (report.json's {@code stages[].index}); {@code link} is
 * {@code "from->to"} summed over replicas, so label sets stay small at 2,048 devices; no label ever holds a
 * micro-batch. Series are created on first use and cached. Exemplars are off: a run has no trace context to link
 * them to, and sampling one at every increment showed in profiles.
 *
 * <p>Batches are read from their columns: a {@link RankActivity} costs one short synchronized block on its rank, a loop
 * that sums busy seconds per phase into the rank's scratch array, one {@code inc} per phase it computed in and one
 * memory gauge {@code set}; a {@link LinkActivity} one block on the metrics, a loop over its transfers and one
 * {@code inc} of its bytes. Nothing is allocated or locked per span. Why: the sink is fed on one thread that competes
 * with the emulation for the same cores, about 100,000 spans a second. How a step is cut into batches (one per rank,
 * or a slice per action in wall-clock runs) changes only the last bits of the busy and stall counters, which add a
 * batch's sum at once; every other value is the same however the step was cut.
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
 * pipelab_training_loss                                  the latest step's training loss (real numerics only:
 *                                                        registered at the first loss, so emulated runs show none)
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
    /** Registered at the first {@link Event.StepLoss}: an emulated run has no loss, and a gauge of 0 would claim one. */
    private Gauge trainingLoss;
    private int lossStep = -1;

    /** Per (replica, rank): the cached series and the bookkeeping that keeps busy + idle = elapsed. */
    private final Rank[][] ranks;
    /** Link series by (from, to); guarded by {@code this}. */
    private final LongMap<LinkSeries> links = new LongMap<>();
    /** The same series by {@link LinkSeries#id}; guarded by {@code this}. */
    private final List<LinkSeries> linkList = new ArrayList<>();
    /** Steps not ended yet (and stragglers of ended ones, dropped at the next step end), each with its transfers' waits
     *  for the queue depth at its end; a handful, so a linear search beats boxing a key. Guarded by {@code this}. */
    private final List<StepQueues> queues = new ArrayList<>();
    private final TreeMap<Integer, Integer> microBatchesByStep = new TreeMap<>();
    private double elapsed;

    /** A link's series; {@code id} numbers links densely in order of appearance, {@code depth} is step-end scratch. */
    private static final class LinkSeries {
        final int id;
        final CounterDataPoint bytes;
        final CounterDataPoint stall;
        final GaugeDataPoint queue;
        int depth;

        LinkSeries(int id, CounterDataPoint bytes, CounterDataPoint stall, GaugeDataPoint queue) {
            this.id = id;
            this.bytes = bytes;
            this.stall = stall;
            this.queue = queue;
        }
    }

    /** One step's waits by (replica, link id): the replica above bit 32, the id below. */
    private record StepQueues(int step, LongMap<QueueWaits> waits) {}

    /** The series of link {@code from -> to}, created on first use; the caller holds {@code this}. */
    private LinkSeries linkSeries(int from, int to) {
        long key = ((long) from << 32) | (to & 0xffffffffL);
        LinkSeries l = links.get(key);
        if (l == null) {
            String name = link(from, to);
            l = new LinkSeries(linkList.size(), linkBytes.labelValues(name), linkStall.labelValues(name),
                    linkQueue.labelValues(name));
            links.put(key, l);
            linkList.add(l);
        }
        return l;
    }

    /** The waits of {@code step}'s transfers on {@code link} of {@code replica}; the caller holds {@code this}. */
    private QueueWaits waits(int step, int replica, LinkSeries link) {
        StepQueues q = null;
        for (int i = queues.size() - 1; i >= 0 && q == null; i--) {
            if (queues.get(i).step() == step) q = queues.get(i);
        }
        if (q == null) {
            q = new StepQueues(step, new LongMap<>());
            queues.add(q);
        }
        long key = ((long) replica << 32) | link.id;
        QueueWaits w = q.waits().get(key);
        if (w == null) {
            w = new QueueWaits();
            q.waits().put(key, w);
        }
        return w;
    }

    private static final class Rank {
        final CounterDataPoint[] busy = new CounterDataPoint[PHASES.length];
        /** A batch's busy seconds per phase while it is summed; zero between batches. Guarded by the rank. */
        final double[] phaseSeconds = new double[PHASES.length];
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
                .labelNames("stage", "replica", "phase").withoutExemplars().register(registry);
        idle = Counter.builder().name("pipelab_stage_idle_seconds_total")
                .help("Emulated seconds a stage waited; busy + idle = elapsed run time at each step end")
                .labelNames("stage", "replica").withoutExemplars().register(registry);
        memory = Gauge.builder().name("pipelab_stage_memory_bytes").help("Live bytes of a stage's device")
                .labelNames("stage", "replica").withoutExemplars().register(registry);
        peakMemory = Gauge.builder().name("pipelab_stage_peak_memory_bytes").help("The most bytes a stage's device held")
                .labelNames("stage", "replica").withoutExemplars().register(registry);
        linkBytes = Counter.builder().name("pipelab_link_transferred_bytes_total")
                .help("Bytes that crossed a link (from->to, summed over replicas)").labelNames("link").withoutExemplars().register(registry);
        linkQueue = Gauge.builder().name("pipelab_link_queue_depth")
                .help("The most transfers waiting on a link at once in the latest completed step").labelNames("link")
                .withoutExemplars().register(registry);
        linkStall = Counter.builder().name("pipelab_link_stall_seconds_total")
                .help("Emulated seconds senders waited for a receiver's credit").labelNames("link").withoutExemplars().register(registry);
        stepDuration = Histogram.builder().name("pipelab_step_duration_seconds")
                .help("Emulated seconds per training step").classicOnly()
                .classicExponentialUpperBounds(0.001, 2, 24).withoutExemplars().register(registry);
        lastStep = Gauge.builder().name("pipelab_last_step_duration_seconds")
                .help("Emulated seconds of the latest completed step").withoutExemplars().register(registry);
        steps = Counter.builder().name("pipelab_steps_total").help("Completed training steps").withoutExemplars().register(registry);
        runSeconds = Gauge.builder().name("pipelab_run_seconds")
                .help("Emulated run time at the latest step end").withoutExemplars().register(registry);
        bubble = Gauge.builder().name("pipelab_bubble_ratio")
                .help("Idle stage-time / total stage-time of the latest step").withoutExemplars().register(registry);
        samplesPerSecond = Gauge.builder().name("pipelab_samples_per_second")
                .help("Samples of the latest step per emulated second").withoutExemplars().register(registry);
        faults = Counter.builder().name("pipelab_faults_total").help("Faults injected, by kind")
                .labelNames("kind").withoutExemplars().register(registry);
        outOfMemory = Counter.builder().name("pipelab_out_of_memory_total")
                .help("Ranks whose live memory would exceed the device's").withoutExemplars().register(registry);
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
        if (event instanceof RankActivity a) {
            onRank(a);
        } else if (event instanceof LinkActivity l) {
            onLink(l);
        } else if (event instanceof Event.StepStarted s) {
            synchronized (this) {
                microBatchesByStep.put(s.step(), s.microBatches());
            }
        } else if (event instanceof Event.StepEnded s) {
            onStepEnded(s);
        } else if (event instanceof Event.OutOfMemory) {
            outOfMemory.inc();
        } else if (event instanceof Event.StepLoss l) {
            onLoss(l);
        }
    }

    private synchronized void onLoss(Event.StepLoss l) {
        if (trainingLoss == null) {
            trainingLoss = Gauge.builder().name("pipelab_training_loss")
                    .help("Training loss of the latest step (mean over replicas and micro-batches; real numerics)")
                    .withoutExemplars().register(registry);
        }
        if (l.step() >= lossStep) { // a late loss of an earlier step does not replace the latest
            lossStep = l.step();
            trainingLoss.set(l.loss());
        }
    }

    private void onRank(RankActivity a) {
        int actions = a.actions();
        int changes = a.memoryChanges();
        if (actions > 0 || changes > 0) {
            Rank r = ranks[checkedReplica(a.replica(), a.rank())][a.rank()];
            synchronized (r) {
                if (actions > 0) busy(r, a, actions);
                if (changes > 0) memory(r, a, changes);
            }
        }
        // outside the rank's lock: onStepEnded takes this, then ranks, so rank then this could deadlock
        if (a.stalls() > 0) stalls(a);
        // all-reduces: communication, not stage compute; their bytes travel as transfers of kind allreduce
    }

    /**
     * Adds a batch's compute to its rank: one {@code inc} per phase, one slot update; the caller holds {@code r}. The
     * step's open busy seconds add span by span in the loop, as they did when spans came one by one, so idle seconds
     * and the bubble ratio do not depend on how a step is cut into batches; only the busy counters do, in the last
     * bits.
     */
    private void busy(Rank r, RankActivity a, int actions) {
        int step = a.step();
        int slot = Math.floorMod(step, RING);
        boolean open = r.openStep[slot] == step;
        double openBusy = open ? r.openBusy[slot] : 0;
        boolean computed = false;
        double[] sums = r.phaseSeconds;
        for (int i = 0; i < actions; i++) {
            double seconds = a.duration(i);
            if (seconds > 0) { // a span of no time counts nowhere and creates no series
                sums[a.phase(i).ordinal()] += seconds;
                openBusy += seconds;
                computed = true;
            }
        }
        if (!computed) return;
        if (!open) {
            // the slot held an older step that never ended (or a late span): count it at the next step end
            r.lateBusy += r.openBusy[slot];
            r.openStep[slot] = step;
        }
        r.openBusy[slot] = openBusy;
        for (int k = 0; k < sums.length; k++) {
            double seconds = sums[k];
            if (seconds == 0) continue;
            sums[k] = 0;
            CounterDataPoint series = r.busy[k];
            if (series == null) {
                series = busy.labelValues(Integer.toString(a.rank()), Integer.toString(a.replica()), PHASES[k].name());
                r.busy[k] = series;
            }
            series.inc(seconds);
        }
    }

    /**
     * Sets the memory gauge once per batch: to its latest change by time, ties to the later one, if that is later than
     * what the gauge shows (by step, then time), which is what setting it change by change ends with.
     */
    private void memory(Rank r, RankActivity a, int changes) {
        if (r.memory == null) {
            String stage = Integer.toString(a.rank());
            String replica = Integer.toString(a.replica());
            r.memory = memory.labelValues(stage, replica);
            r.peak = peakMemory.labelValues(stage, replica);
        }
        int latest = 0;
        double at = a.memoryAt(0);
        long most = a.memoryBytes(0);
        for (int i = 1; i < changes; i++) {
            if (a.memoryAt(i) >= at) {
                latest = i;
                at = a.memoryAt(i);
            }
            most = Math.max(most, a.memoryBytes(i));
        }
        if (a.step() > r.memoryStep || (a.step() == r.memoryStep && at >= r.memoryAt)) {
            r.memoryStep = a.step();
            r.memoryAt = at;
            r.memory.set(a.memoryBytes(latest));
        }
        if (most > r.peakBytes) {
            r.peakBytes = most;
            r.peak.set(most);
        }
    }

    /** A rank waits for one or two neighbours: one lookup and one {@code inc} per run of waits on the same link. */
    private void stalls(RankActivity a) {
        int n = a.stalls();
        for (int i = 0; i < n; ) {
            int to = a.stallTo(i);
            double seconds = 0;
            do {
                double s = a.stallEnd(i) - a.stallStart(i);
                if (s > 0) seconds += s;
                i++;
            } while (i < n && a.stallTo(i) == to);
            if (seconds > 0) {
                LinkSeries l;
                synchronized (this) {
                    l = linkSeries(a.rank(), to);
                }
                l.stall.inc(seconds);
            }
        }
    }

    private void onLink(LinkActivity l) {
        int n = l.transfers();
        if (n == 0) return;
        long bytes = 0;
        LinkSeries series;
        synchronized (this) {
            series = linkSeries(l.fromRank(), l.toRank());
            QueueWaits waits = null;
            for (int i = 0; i < n; i++) {
                long b = l.bytes(i);
                if (b > 0) bytes += b;
                double ready = l.ready(i);
                double start = l.start(i);
                if (start > ready) {
                    if (waits == null) waits = waits(l.step(), l.replica(), series);
                    waits.add(ready, start);
                }
            }
        }
        if (bytes > 0) series.bytes.inc((double) bytes);
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
            for (LinkSeries l : linkList) l.depth = 0;
            for (int i = queues.size() - 1; i >= 0; i--) {
                StepQueues q = queues.get(i);
                if (q.step() > s.step()) continue;
                if (q.step() == s.step()) {
                    q.waits().forEach((key, w) -> {
                        LinkSeries l = linkList.get((int) key);
                        l.depth = Math.max(l.depth, w.maxDepth());
                    });
                }
                queues.remove(i); // late waits of ended steps were never counted; they go with them
            }
            for (LinkSeries l : linkList) l.queue.set(l.depth);
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
