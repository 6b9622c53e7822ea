package dev.pipelab.monitoring.metrics;

import dev.pipelab.monitoring.FaultSummary;
import dev.pipelab.monitoring.LinkStats;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RankStats;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.RunTelemetry;
import dev.pipelab.monitoring.StepStats;
import dev.pipelab.monitoring.StepSummary;
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
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The run's Prometheus metrics on a registry of their own, updated once per completed step from its
 * {@link StepSummary}. Invariant: every counter only grows, and after each step {@code busy + idle} seconds of every
 * (stage, replica) equal the emulated run time elapsed (the latest step's {@code runSeconds}): idle is topped up by
 * exactly the part of the elapsed time that the rank's busy seconds do not cover.
 *
 * <p>Label {@code stage} is the pipeline rank (report.json's {@code stages[].index}); {@code link} is
 * {@code "from->to"} summed over replicas, so label sets stay small at 2,048 devices; no label ever holds a
 * micro-batch. Series are created on first use and cached. Exemplars are off: a run has no trace context to link
 * them to, and sampling one at every increment showed in profiles.
 *
 * <pre>
 * pipelab_stage_busy_seconds_total{stage,replica,phase}  compute seconds (phase F, B, W, R, OPT)
 * pipelab_stage_idle_seconds_total{stage,replica}        elapsed minus busy, at step ends
 * pipelab_stage_memory_bytes{stage,replica}              live bytes at the latest change
 * pipelab_stage_peak_memory_bytes{stage,replica}         the most bytes seen
 * pipelab_link_transferred_bytes_total{link}             bytes carried
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
 * pipelab_faults_total{kind}                             faults injected, by kind (e.g. stage.crash)
 * pipelab_recoveries_total                               failed attempts the run recovered from
 * pipelab_lost_work_seconds_total                        emulated seconds of work recoveries threw away
 * pipelab_checkpoints_total                              checkpoints written
 * pipelab_goodput_ratio                                  useful step time / elapsed run time (registered with the first
 *                                                        fault, recovery or checkpoint: before it, all time is useful)
 * pipelab_telemetry_lost_total                           records of completed steps sent by a stage or link but never arrived whole
 * pipelab_out_of_memory_total                            out-of-memory moments
 * pipelab_build_info{version}                            1
 * pipelab_stage_node_info{stage,replica,node}            1 per (stage, replica) of a cluster run: the worker JVM
 *                                                        ({@code host:port}) hosting it; absent in an embedded run
 * </pre>
 *
 * <p>The node is an info metric rather than a {@code node} label on every per-stage series, the Prometheus way of
 * attaching slow-changing metadata (as {@code kube_pod_info} does): the other series keep the same names and labels in
 * embedded and cluster runs, and a query that wants the node joins on it, e.g.
 * {@code pipelab_stage_busy_seconds_total * on(stage, replica) group_left(node) pipelab_stage_node_info}. Links are
 * summed over replicas and run on their sender's node, so a link's node is that of its {@code from} stage.
 */
public final class Metrics implements RunTelemetry.Listener {

    private static final Phase[] PHASES = Phase.values();

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
    private final Counter recoveries;
    private final Counter lostWork;
    private final Counter checkpoints;
    /** Registered at the first fault, recovery or checkpoint: a fault-free run's time is all useful. */
    private Gauge goodput;
    /** What the fault counters hold so far, so that each summary adds only what is new. */
    private final Map<String, Integer> faultsCounted = new HashMap<>();
    private int recoveriesCounted;
    private double lostWorkCounted;
    private int checkpointsCounted;
    private final Counter telemetryLost;
    private final Counter outOfMemory;
    /** Registered at the first loss: an emulated run has no loss, and a gauge of 0 would claim one. */
    private Gauge trainingLoss;
    private int lossStep = -1;

    /** Per (replica, rank): busy + idle seconds counted so far, and the peak memory shown. */
    private final double[][] accounted;
    private final long[][] peakBytes;
    /** A link's series, all three created when it first carries or stalls. */
    private record LinkSeries(CounterDataPoint bytes, CounterDataPoint stall, GaugeDataPoint queue) {}

    /** Link series by name; guarded by {@code this}. */
    private final TreeMap<String, LinkSeries> links = new TreeMap<>();
    private double elapsed;

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
        recoveries = Counter.builder().name("pipelab_recoveries_total")
                .help("Failed attempts the run recovered from (restart, reload the checkpoint, replay)").withoutExemplars().register(registry);
        lostWork = Counter.builder().name("pipelab_lost_work_seconds_total")
                .help("Emulated seconds of work thrown away by recoveries (failed attempts and replayed steps' first runs)")
                .withoutExemplars().register(registry);
        checkpoints = Counter.builder().name("pipelab_checkpoints_total").help("Checkpoints written")
                .withoutExemplars().register(registry);
        telemetryLost = Counter.builder().name("pipelab_telemetry_lost_total")
                .help("Records of stages and links sent but never arrived whole (docs/telemetry.md)").withoutExemplars().register(registry);
        outOfMemory = Counter.builder().name("pipelab_out_of_memory_total")
                .help("Ranks whose live memory would exceed the device's").withoutExemplars().register(registry);
        Info build = Info.builder().name("pipelab_build_info").help("pipelab version").labelNames("version")
                .register(registry);
        build.setLabelValues(version);
        info.deployment().ifPresent(d -> {
            Info node = Info.builder().name("pipelab_stage_node_info").help("The worker JVM (host:port) hosting a stage")
                    .labelNames("stage", "replica", "node").register(registry);
            for (int replica = 0; replica < info.data(); replica++) {
                for (int rank = 0; rank < info.pipeline(); rank++) {
                    node.addLabelValues(Integer.toString(rank), Integer.toString(replica), d.label(replica, rank));
                }
            }
        });
        steps.inc(0);
        recoveries.inc(0);
        lostWork.inc(0);
        checkpoints.inc(0);
        outOfMemory.inc(0);
        telemetryLost.inc(0);
        accounted = new double[info.data()][info.pipeline()];
        peakBytes = new long[info.data()][info.pipeline()];
        // every (stage, replica) exists from the start, so idle is reported for ranks that never computed
        for (int replica = 0; replica < info.data(); replica++) {
            for (int rank = 0; rank < info.pipeline(); rank++) {
                idle.labelValues(Integer.toString(rank), Integer.toString(replica));
                peakBytes[replica][rank] = Long.MIN_VALUE;
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

    /**
     * Adds what is new in {@code summary} to the fault counters (each only grows: a repeated or late event adds nothing
     * twice) and shows its goodput.
     */
    @Override
    public synchronized void faultsChanged(FaultSummary summary) {
        Map<String, Integer> byKind = new TreeMap<>();
        for (FaultSummary.Fault f : summary.faults()) byKind.merge(f.kind(), 1, Integer::sum);
        byKind.forEach((kind, n) -> {
            int before = faultsCounted.getOrDefault(kind, 0);
            if (n > before) {
                faults.labelValues(kind).inc(n - before);
                faultsCounted.put(kind, n);
            }
        });
        if (summary.recoveries().size() > recoveriesCounted) {
            recoveries.inc(summary.recoveries().size() - recoveriesCounted);
            recoveriesCounted = summary.recoveries().size();
        }
        double lost = summary.lostWorkSeconds();
        if (lost > lostWorkCounted) {
            lostWork.inc(lost - lostWorkCounted);
            lostWorkCounted = lost;
        }
        if (summary.checkpoints().size() > checkpointsCounted) {
            checkpoints.inc(summary.checkpoints().size() - checkpointsCounted);
            checkpointsCounted = summary.checkpoints().size();
        }
        if (!(summary.elapsedSeconds() > 0)) return; // no time on the axis yet: no goodput to show
        if (goodput == null) {
            goodput = Gauge.builder().name("pipelab_goodput_ratio")
                    .help("Useful step time (the attempts that counted) / elapsed emulated run time").withoutExemplars()
                    .register(registry);
        }
        goodput.set(summary.goodput());
    }

    @Override
    public synchronized void lossReported(int step, double loss) {
        if (trainingLoss == null) {
            trainingLoss = Gauge.builder().name("pipelab_training_loss")
                    .help("Training loss of the latest step (mean over replicas and micro-batches; real numerics)")
                    .withoutExemplars().register(registry);
        }
        if (step >= lossStep) { // a late loss of an earlier step does not replace the latest
            lossStep = step;
            trainingLoss.set(loss);
        }
    }

    @Override
    public synchronized void stepSummarised(StepSummary summary) {
        StepStats s = summary.stats();
        elapsed = Math.max(elapsed, s.runSeconds());
        telemetryLost.inc(summary.ended().telemetryLost());
        for (RankStats r : summary.ranks()) {
            String stage = Integer.toString(r.rank());
            String replica = Integer.toString(r.replica());
            for (Phase phase : PHASES) {
                double seconds = r.busySeconds(phase);
                // a phase of no time counts nowhere and creates no series
                if (seconds > 0) busy.labelValues(stage, replica, phase.name()).inc(seconds);
            }
            double counted = accounted[r.replica()][r.rank()] + r.busySeconds();
            double missing = elapsed - counted;
            if (missing > 0) {
                idle.labelValues(stage, replica).inc(missing);
                counted += missing;
            }
            accounted[r.replica()][r.rank()] = counted;
            memory.labelValues(stage, replica).set(r.liveMemoryBytes());
            if (r.peakMemoryBytes() > peakBytes[r.replica()][r.rank()]) {
                peakBytes[r.replica()][r.rank()] = r.peakMemoryBytes();
                peakMemory.labelValues(stage, replica).set(r.peakMemoryBytes());
            }
        }
        // links summed over replicas; the queue depth is the deepest of any replica in this step
        Map<String, Integer> depth = new HashMap<>();
        for (LinkStats l : summary.links()) {
            String name = link(l.fromRank(), l.toRank());
            if (l.transfers() == 0 && !(l.stallSeconds() > 0)) continue;
            LinkSeries series = links.computeIfAbsent(name, n -> new LinkSeries(linkBytes.labelValues(n),
                    linkStall.labelValues(n), linkQueue.labelValues(n)));
            if (l.bytes() > 0) series.bytes().inc((double) l.bytes());
            if (l.stallSeconds() > 0) series.stall().inc(l.stallSeconds());
            depth.merge(name, l.maxQueueDepth(), Math::max);
        }
        links.forEach((name, series) -> series.queue().set(depth.getOrDefault(name, 0)));
        outOfMemory.inc(summary.outOfMemory().size());
        steps.inc();
        stepDuration.observe(s.stepSeconds());
        lastStep.set(s.stepSeconds());
        runSeconds.set(elapsed);
        bubble.set(s.bubbleFraction());
        samplesPerSecond.set(s.samplesPerSecond());
    }

    static String link(int from, int to) {
        return from + "->" + to;
    }
}
