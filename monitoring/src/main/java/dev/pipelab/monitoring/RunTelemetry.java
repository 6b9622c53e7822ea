package dev.pipelab.monitoring;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A run's telemetry: the {@link StepSummary} of every completed step, each computed once when its
 * {@link Event.StepEnded} arrives, the steps abandoned, the losses, and the numbers over the run. Invariant: every
 * answer depends only on the set of steps received (a repeated event of a step replaces the earlier one), never on
 * arrival order: run-level sums add the steps in ascending order, each step's values in its summary's order, the
 * first value as it is.
 *
 * <p>Faults and recovery ({@link #faultSummary()}) are kept the same way: faults by index, recoveries, checkpoints
 * and commits by attempt.
 *
 * <p>Fed as an {@link EventSink} (by the {@code EventPump}'s thread, or at once with {@link #of}); every method is
 * synchronized, and {@link Listener}s hear of each new summary and loss after the lock is released, so a listener may
 * query back.
 */
public final class RunTelemetry implements EventSink {

    /** Hears of what the run's telemetry learns, on the thread that feeds it, one call at a time. */
    public interface Listener {
        /** A step completed; {@code summary} is final. */
        void stepSummarised(StepSummary summary);

        /** Real-numerics runs: a completed step's training loss (after its summary). */
        default void lossReported(int step, double loss) {}

        /**
         * Faults or recovery changed: a fault was injected or healed, a recovery or checkpoint happened, or, once any of
         * these did, a step completed and committed (so goodput moved). {@code faults} is the whole picture so far.
         */
        default void faultsChanged(FaultSummary faults) {}
    }

    private final RunInfo info;
    private final TreeMap<Integer, Event.StepStarted> started = new TreeMap<>();
    private final TreeMap<Integer, StepSummary> summaries = new TreeMap<>();
    private final TreeMap<Integer, Event.StepAbandoned> abandoned = new TreeMap<>();
    private final TreeMap<Integer, Double> losses = new TreeMap<>();
    private final TreeMap<Integer, Event.FaultInjected> injected = new TreeMap<>();
    private final TreeMap<Integer, Event.FaultHealed> healed = new TreeMap<>();
    private final TreeMap<Integer, Event.Recovered> recovered = new TreeMap<>();
    private final TreeMap<Integer, Event.Checkpointed> checkpoints = new TreeMap<>();
    private final TreeMap<Integer, Event.StepCommitted> commits = new TreeMap<>();
    /** The fault summary of the events so far; null when an event changed it since it was computed. */
    private FaultSummary faultSummary;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    public RunTelemetry(RunInfo info) {
        this.info = Objects.requireNonNull(info, "info");
    }

    /** The telemetry of {@code events}, e.g. {@code RunTelemetry.of(info, log.events())}. */
    public static RunTelemetry of(RunInfo info, Collection<? extends Event> events) {
        RunTelemetry telemetry = new RunTelemetry(info);
        for (Event e : events) telemetry.emit(e);
        return telemetry;
    }

    public RunInfo info() {
        return info;
    }

    public void addListener(Listener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void emit(Event event) {
        StepSummary summary = null;
        FaultSummary faults = null;
        synchronized (this) {
            boolean changed = false;
            if (event instanceof Event.StepStarted s) {
                started.put(s.step(), s);
            } else if (event instanceof Event.StepEnded e) {
                summary = StepSummary.of(info, Optional.ofNullable(started.get(e.step())), e);
                summaries.put(e.step(), summary);
                // goodput moves once the step's commit is in too (when the run records commits at all)
                changed = faultActivity() && (commits.isEmpty() || commits.containsKey(e.step()));
                faultSummary = null;
            } else if (event instanceof Event.StepAbandoned a) {
                abandoned.put(a.step(), a);
            } else if (event instanceof Event.StepLoss l) {
                losses.put(l.step(), l.loss());
            } else if (event instanceof Event.FaultInjected f) {
                changed = !f.equals(injected.put(f.fault(), f));
            } else if (event instanceof Event.FaultHealed h) {
                changed = !h.equals(healed.put(h.fault(), h));
            } else if (event instanceof Event.Recovered r) {
                changed = !r.equals(recovered.put(r.step(), r));
            } else if (event instanceof Event.Checkpointed c) {
                changed = !c.equals(checkpoints.put(c.step(), c));
            } else if (event instanceof Event.StepCommitted c) {
                changed = !c.equals(commits.put(c.step(), c)) && faultActivity() && summaries.containsKey(c.step());
                faultSummary = null;
            }
            if (changed) {
                faultSummary = null;
                if (!listeners.isEmpty()) faults = faultSummary();
            }
        }
        if (summary != null) for (Listener l : listeners) l.stepSummarised(summary);
        if (event instanceof Event.StepLoss l) for (Listener listener : listeners) listener.lossReported(l.step(), l.loss());
        if (faults != null) for (Listener l : listeners) l.faultsChanged(faults);
    }

    /**
     * Whether the run has seen a fault, a recovery or a checkpoint. Only then do listeners hear of each committed step,
     * and each time the summary is computed anew: the ledger checks every offset of the run, O(steps·d·m), which the
     * shipped scenarios (at most 300 steps, d·m at most 6,144) pay in milliseconds; a fault-free run pays nothing until
     * its report asks.
     */
    private boolean faultActivity() {
        return !injected.isEmpty() || !healed.isEmpty() || !recovered.isEmpty() || !checkpoints.isEmpty();
    }

    /**
     * The run's faults, recoveries, checkpoints, goodput and ledger over the events so far (computed when an event
     * changed them, then kept).
     */
    public synchronized FaultSummary faultSummary() {
        if (faultSummary != null) return faultSummary;
        Optional<Ledger> ledger = commits.isEmpty() ? Optional.empty()
                : Optional.of(Ledger.of(info.data(), info.pipeline(), info.microBatches(), commits.values(), recovered.values()));
        // useful: the lineage's attempts in training-step order (= attempt order), else every completed attempt
        double useful = 0;
        if (ledger.isPresent()) {
            for (Event.StepCommitted c : ledger.get().lineage()) {
                StepSummary s = summaries.get(c.step());
                if (s != null) useful += s.stats().stepSeconds();
            }
        } else {
            for (StepSummary s : summaries.values()) useful += s.stats().stepSeconds();
        }
        double elapsed = 0;
        for (StepSummary s : summaries.values()) elapsed = Math.max(elapsed, s.stats().runSeconds());
        for (Event.Checkpointed c : checkpoints.values()) elapsed = Math.max(elapsed, c.runSeconds());
        for (Event.Recovered r : recovered.values()) elapsed = Math.max(elapsed, r.recoveredAtSeconds());
        // while a run is failing, the moments of its faults are on its axis too
        for (Event.FaultInjected f : injected.values()) elapsed = Math.max(elapsed, f.runSeconds());
        for (Event.FaultHealed h : healed.values()) elapsed = Math.max(elapsed, h.runSeconds());
        List<FaultSummary.Fault> faults = new ArrayList<>();
        for (Event.FaultInjected f : injected.values()) {
            Event.FaultHealed h = healed.get(f.fault());
            List<Event.Recovered> caused = recovered.values().stream().filter(r -> r.fault() == f.fault()).toList();
            faults.add(new FaultSummary.Fault(f.fault(), f.kind(), f.target(), f.description(), f.runSeconds(),
                    h == null ? OptionalDouble.empty() : OptionalDouble.of(h.runSeconds()), caused));
        }
        long dropped = 0;
        long duplicates = 0;
        for (StepSummary s : summaries.values()) {
            for (LinkRecord l : s.ended().links()) {
                dropped += l.dropped();
                duplicates += l.duplicates();
            }
        }
        faultSummary = new FaultSummary(faults, List.copyOf(recovered.values()), List.copyOf(checkpoints.values()), useful,
                elapsed, dropped, duplicates, ledger);
        return faultSummary;
    }

    /** Every completed step's summary, ascending. */
    public synchronized List<StepSummary> summaries() {
        return List.copyOf(summaries.values());
    }

    /** The summary of {@code step}; empty while it runs or when it never completed. */
    public synchronized Optional<StepSummary> summary(int step) {
        return Optional.ofNullable(summaries.get(step));
    }

    /** The latest completed step's summary. */
    public synchronized Optional<StepSummary> lastSummary() {
        return summaries.isEmpty() ? Optional.empty() : Optional.of(summaries.lastEntry().getValue());
    }

    /** Steps that never completed (deadlock, failure), ascending, with the records of what ran. */
    public synchronized List<Event.StepAbandoned> abandoned() {
        return List.copyOf(abandoned.values());
    }

    /**
     * Records of the run's steps (completed or abandoned) that a stage or link sent but that never arrived whole
     * ({@link Event.StepEnded#telemetryLost()}).
     */
    public synchronized int telemetryLost() {
        int lost = 0;
        for (StepSummary s : summaries.values()) lost += s.ended().telemetryLost();
        for (Event.StepAbandoned a : abandoned.values()) lost += a.telemetryLost();
        return lost;
    }

    /** {@link StepStats} of every completed step, ascending. */
    public synchronized List<StepStats> stepStats() {
        return summaries.values().stream().map(StepSummary::stats).toList();
    }

    /**
     * Real-numerics runs: the loss of each step that reported one, in step order (empty otherwise). After a recovery,
     * one per training step: that of the attempt that counts (the ledger's lineage), not of a replayed step's first run.
     */
    public synchronized List<Double> losses() {
        if (recovered.isEmpty() || commits.isEmpty()) return List.copyOf(losses.values());
        List<Double> out = new ArrayList<>();
        for (Event.StepCommitted c : Ledger.of(info.data(), info.pipeline(), info.microBatches(), commits.values(),
                recovered.values()).lineage()) {
            Double loss = losses.get(c.step());
            if (loss != null) out.add(loss);
        }
        return out;
    }

    /**
     * Every (replica, rank) over the completed steps, as a mean step: busy seconds per phase, busy seconds, step time
     * and busy fraction are means ({@link Mean}); peak memory and in-flight are maxima; live memory is the latest
     * step's. Without a completed step: zeros and static memory. By replica, then rank.
     */
    public synchronized List<RankStats> ranksOverRun() {
        List<StepSummary> done = List.copyOf(summaries.values());
        int n = done.size();
        List<RankStats> out = new ArrayList<>();
        for (int k = 0; k < info.data() * info.pipeline(); k++) {
            double[][] byPhase = new double[Phase.values().length][n];
            double[] busy = new double[n];
            double[] stepSeconds = new double[n];
            double[] fraction = new double[n];
            long staticBytes = info.staticBytesPerRank().get(k % info.pipeline());
            long live = staticBytes;
            long peak = staticBytes;
            int inFlight = 0;
            for (int i = 0; i < n; i++) {
                RankStats r = done.get(i).ranks().get(k);
                for (Phase phase : Phase.values()) byPhase[phase.ordinal()][i] = r.busySeconds(phase);
                busy[i] = r.busySeconds();
                stepSeconds[i] = r.stepSeconds();
                fraction[i] = r.busyFraction();
                peak = i == 0 ? r.peakMemoryBytes() : Math.max(peak, r.peakMemoryBytes());
                live = r.liveMemoryBytes();
                inFlight = Math.max(inFlight, r.peakInFlight());
            }
            Map<Phase, Double> means = new EnumMap<>(Phase.class);
            for (Phase phase : Phase.values()) means.put(phase, Mean.of(byPhase[phase.ordinal()]));
            double meanBusy = Mean.of(busy);
            double meanStep = Mean.of(stepSeconds);
            out.add(new RankStats(k / info.pipeline(), k % info.pipeline(), means, meanBusy, meanStep, Mean.of(fraction),
                    meanStep - meanBusy, live, peak, inFlight));
        }
        return out;
    }

    /** Every link of the completed steps: sums over steps and the deepest queue of any step. By replica, from, to. */
    public synchronized List<LinkStats> linksOverRun() {
        TreeMap<StepSummary.LinkKey, LinkStats> sum = new TreeMap<>();
        for (StepSummary s : summaries.values()) {
            for (LinkStats l : s.links()) {
                sum.merge(StepSummary.LinkKey.of(l), l, (a, b) -> new LinkStats(a.replica(), a.fromRank(), a.toRank(),
                        a.bytes() + b.bytes(), a.busySeconds() + b.busySeconds(), a.transfers() + b.transfers(),
                        a.stallSeconds() + b.stallSeconds(), Math.max(a.maxQueueDepth(), b.maxQueueDepth())));
            }
        }
        return List.copyOf(sum.values());
    }

    /** All-reduce seconds per model stage over replicas and completed steps: one chain of additions per stage. */
    public synchronized SortedMap<Integer, Double> allReduceSecondsByStage() {
        TreeMap<Integer, Double> out = new TreeMap<>();
        for (StepSummary s : summaries.values()) {
            for (StepSummary.AllReduce a : s.allReduces()) out.merge(a.stage(), a.seconds(), Double::sum);
        }
        return Collections.unmodifiableSortedMap(out);
    }

    /** All-reduce bytes per model stage over replicas and completed steps. */
    public synchronized SortedMap<Integer, Long> allReduceBytesByStage() {
        TreeMap<Integer, Long> out = new TreeMap<>();
        for (StepSummary s : summaries.values()) {
            for (StepSummary.AllReduce a : s.allReduces()) out.merge(a.stage(), a.bytes(), Long::sum);
        }
        return Collections.unmodifiableSortedMap(out);
    }

    /** Every out-of-memory moment, of completed and abandoned steps, by step, replica, rank, time, bytes. */
    public synchronized List<StepSummary.OutOfMemory> outOfMemory() {
        List<StepSummary.OutOfMemory> out = new ArrayList<>();
        for (StepSummary s : summaries.values()) out.addAll(s.outOfMemory());
        for (Event.StepAbandoned a : abandoned.values()) {
            for (StageRecord r : a.stages()) {
                for (StageRecord.OutOfMemory o : r.outOfMemory()) {
                    out.add(new StepSummary.OutOfMemory(a.step(), r.replica(), r.rank(), o.atSeconds(), o.bytes(),
                            o.capacityBytes()));
                }
            }
        }
        out.sort(Comparator.comparingInt(StepSummary.OutOfMemory::step).thenComparingInt(StepSummary.OutOfMemory::replica)
                .thenComparingInt(StepSummary.OutOfMemory::rank).thenComparingDouble(StepSummary.OutOfMemory::atSeconds)
                .thenComparingLong(StepSummary.OutOfMemory::bytes));
        return List.copyOf(out);
    }

    /** Whole-run totals over the completed steps (sums in step order, then each step's link order). */
    public synchronized RunTotals totals() {
        int n = summaries.size();
        double[] stepSeconds = new double[n];
        long samples = 0;
        double busy = 0;
        double runSeconds = 0;
        long linkBytes = 0;
        double stall = 0;
        int i = 0;
        for (StepSummary s : summaries.values()) {
            stepSeconds[i++] = s.stats().stepSeconds();
            samples += (long) info.microBatchSize() * s.microBatches() * info.data();
            busy += s.stats().busySeconds();
            runSeconds = Math.max(runSeconds, s.stats().runSeconds());
            for (LinkStats l : s.links()) {
                linkBytes += l.bytes();
                stall += l.stallSeconds();
            }
        }
        double last = n == 0 ? 0 : stepSeconds[n - 1];
        return new RunTotals(n, runSeconds, Mean.of(stepSeconds), last, samples, samples * info.seqLength(), busy,
                linkBytes, stall, outOfMemory().size());
    }
}
