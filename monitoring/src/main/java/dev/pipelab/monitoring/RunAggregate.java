package dev.pipelab.monitoring;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Folds telemetry events into per-step, per-rank and per-link numbers. Invariant: every query depends only on the
 * set of events accepted, never on the order in which they arrived (spans are sorted before anything is summed),
 * so two runs that emit the same events report the same numbers bit for bit.
 *
 * <p>Incremental: {@link #accept} one event at a time (it is synchronized, so it can sit behind a live sink) and
 * query at any moment. A step's numbers are final once its {@link Event.StepEnded} has arrived.
 */
public final class RunAggregate {

    /** Start order; ties broken by every other field so the order is total. */
    private static final Comparator<Event.ActionSpan> SPAN_ORDER = Comparator
            .comparingDouble(Event.ActionSpan::startSeconds)
            .thenComparingDouble(Event.ActionSpan::endSeconds)
            .thenComparing(Event.ActionSpan::phase)
            .thenComparingInt(Event.ActionSpan::stage)
            .thenComparingInt(Event.ActionSpan::microBatch);

    private static final Comparator<Event.TransferSpan> TRANSFER_ORDER = Comparator
            .comparingDouble(Event.TransferSpan::startSeconds)
            .thenComparingDouble(Event.TransferSpan::endSeconds)
            .thenComparingDouble(Event.TransferSpan::readySeconds)
            .thenComparing(Event.TransferSpan::kind)
            .thenComparingInt(Event.TransferSpan::stage)
            .thenComparingInt(Event.TransferSpan::microBatch)
            .thenComparingLong(Event.TransferSpan::bytes);

    private record RankKey(int replica, int rank) {}

    private record LinkKey(int replica, int fromRank, int toRank) {}

    /** Live and peak bytes of a rank within a step; the latest change by time wins, ties by arrival. */
    private static final class Memory {
        double lastAt = Double.NEGATIVE_INFINITY;
        long last;
        long peak = Long.MIN_VALUE;
    }

    private static final class StepData {
        Event.StepStarted started;
        Event.StepEnded ended;
        double lastEnd;
        final Map<RankKey, List<Event.ActionSpan>> spans = new HashMap<>();
        final Map<RankKey, Memory> memory = new HashMap<>();
        final Map<LinkKey, List<Event.TransferSpan>> transfers = new HashMap<>();
        final Map<LinkKey, List<Event.CreditStall>> stalls = new HashMap<>();
        final List<Event.AllReduceSpan> allReduces = new ArrayList<>();
    }

    private final RunInfo info;
    private final TreeMap<Integer, StepData> steps = new TreeMap<>();
    private final List<Event.OutOfMemory> outOfMemory = new ArrayList<>();
    private final java.util.TreeMap<Integer, Double> losses = new java.util.TreeMap<>();

    public RunAggregate(RunInfo info) {
        this.info = Objects.requireNonNull(info, "info");
    }

    /** An aggregate of {@code events}, e.g. {@code RunAggregate.of(info, log.events())}. */
    public static RunAggregate of(RunInfo info, Collection<? extends Event> events) {
        RunAggregate aggregate = new RunAggregate(info);
        for (Event e : events) aggregate.accept(e);
        return aggregate;
    }

    public RunInfo info() {
        return info;
    }

    public synchronized void accept(Event event) {
        Objects.requireNonNull(event, "event");
        if (event instanceof Event.Batch b) {
            for (Event.Detail detail : b.details()) accept(detail);
        } else if (event instanceof Event.StepStarted s) {
            data(s.step()).started = s;
        } else if (event instanceof Event.StepEnded s) {
            data(s.step()).ended = s;
        } else if (event instanceof Event.OutOfMemory o) {
            outOfMemory.add(o);
        } else if (event instanceof Event.StepLoss l) {
            losses.put(l.step(), l.loss());
        } else {
            throw new IllegalArgumentException("unknown event " + event);
        }
    }

    private void accept(Event.Detail event) {
        if (event instanceof Event.ActionSpan s) {
            StepData d = data(s.step());
            d.spans.computeIfAbsent(new RankKey(s.replica(), s.rank()), k -> new ArrayList<>()).add(s);
            d.lastEnd = Math.max(d.lastEnd, s.endSeconds());
        } else if (event instanceof Event.TransferSpan t) {
            data(t.step()).transfers
                    .computeIfAbsent(new LinkKey(t.replica(), t.fromRank(), t.toRank()), k -> new ArrayList<>()).add(t);
        } else if (event instanceof Event.CreditStall c) {
            data(c.step()).stalls
                    .computeIfAbsent(new LinkKey(c.replica(), c.fromRank(), c.toRank()), k -> new ArrayList<>()).add(c);
        } else if (event instanceof Event.MemoryChanged m) {
            Memory mem = data(m.step()).memory.computeIfAbsent(new RankKey(m.replica(), m.rank()), k -> new Memory());
            if (m.atSeconds() >= mem.lastAt) {
                mem.lastAt = m.atSeconds();
                mem.last = m.bytes();
            }
            mem.peak = Math.max(mem.peak, m.bytes());
        } else if (event instanceof Event.AllReduceSpan a) {
            data(a.step()).allReduces.add(a);
        }
    }

    private StepData data(int step) {
        return steps.computeIfAbsent(step, k -> new StepData());
    }

    // ---------------------------------------------------------------- steps

    /** Steps with a {@code StepEnded}, ascending. */
    public synchronized List<Integer> completedSteps() {
        List<Integer> out = new ArrayList<>();
        steps.forEach((k, d) -> { if (d.ended != null) out.add(k); });
        return out;
    }

    /** Every step any event mentioned, ascending. */
    public synchronized List<Integer> seenSteps() {
        return List.copyOf(steps.keySet());
    }

    /** The headline numbers of a completed step; empty while it runs. */
    public synchronized Optional<StepStats> step(int step) {
        StepData d = steps.get(step);
        if (d == null || d.ended == null) return Optional.empty();
        return Optional.of(stepStats(step, d));
    }

    /** {@link #step} for every completed step, ascending. */
    public synchronized List<StepStats> stepStats() {
        List<StepStats> out = new ArrayList<>();
        steps.forEach((k, d) -> { if (d.ended != null) out.add(stepStats(k, d)); });
        return out;
    }

    private StepStats stepStats(int step, StepData d) {
        double stepSeconds = d.ended.stepSeconds();
        double busy = 0;
        for (int replica = 0; replica < info.data(); replica++) {
            for (int rank = 0; rank < info.pipeline(); rank++) {
                busy += busySeconds(spans(d, replica, rank));
            }
        }
        long samples = samplesOf(d);
        double samplesPerSecond = rate(samples, stepSeconds);
        double tokensPerSecond = rate((double) samples * info.seqLength(), stepSeconds);
        double flopRate = stepSeconds * info.devices() * info.peakFlopsPerDevice();
        double mfu = flopRate > 0 ? info.modelFlopsPerStep() / flopRate : 0;
        double hfu = flopRate > 0 ? info.hardwareFlopsPerStep() / flopRate : 0;
        // as the evaluator's Timeline.bubbleFraction: one division, so a rational result is correctly rounded
        double total = (info.pipeline() * info.data()) * stepSeconds;
        double bubble = total > 0 ? (total - busy) / total : 0;
        return new StepStats(step, stepSeconds, d.ended.runSeconds(), d.ended.committedOffset(), samplesPerSecond,
                tokensPerSecond, mfu, hfu, busy, bubble);
    }

    private long samplesOf(StepData d) {
        int m = d.started != null ? d.started.microBatches() : info.microBatches();
        return (long) info.microBatchSize() * m * info.data();
    }

    private static double rate(double amount, double seconds) {
        return seconds > 0 ? amount / seconds : 0;
    }

    // ---------------------------------------------------------------- ranks

    /**
     * One rank of one replica in one step. Before the step ends its step time is the latest span end so far.
     */
    public synchronized RankStats rank(int step, int replica, int rank) {
        StepData d = steps.get(step);
        if (d == null) d = new StepData();
        return rankStats(d, replica, rank);
    }

    /** {@link #rank} for every replica and rank of the step, by replica then rank. */
    public synchronized List<RankStats> ranks(int step) {
        List<RankStats> out = new ArrayList<>();
        for (int replica = 0; replica < info.data(); replica++) {
            for (int rank = 0; rank < info.pipeline(); rank++) out.add(rank(step, replica, rank));
        }
        return out;
    }

    /**
     * Every (replica, rank) over the completed steps, as a mean step: busy seconds per phase, busy seconds, step
     * time and busy fraction are means over steps; memory and in-flight are maxima over every step seen; live
     * memory is the latest step's.
     */
    public synchronized List<RankStats> ranksOverRun() {
        List<Integer> done = completedSteps();
        List<RankStats> out = new ArrayList<>();
        for (int replica = 0; replica < info.data(); replica++) {
            for (int rank = 0; rank < info.pipeline(); rank++) {
                int n = done.size();
                double[][] byPhase = new double[Phase.values().length][n];
                double[] busy = new double[n];
                double[] stepSeconds = new double[n];
                double[] fraction = new double[n];
                for (int i = 0; i < n; i++) {
                    RankStats r = rankStats(steps.get(done.get(i)), replica, rank);
                    for (Phase phase : Phase.values()) byPhase[phase.ordinal()][i] = r.busySeconds(phase);
                    busy[i] = r.busySeconds();
                    stepSeconds[i] = r.stepSeconds();
                    fraction[i] = r.busyFraction();
                }
                long live = info.staticBytesPerRank().get(rank);
                long peak = live;
                int inFlight = 0;
                boolean seenMemory = false;
                for (StepData d : steps.values()) {
                    Memory mem = d.memory.get(new RankKey(replica, rank));
                    if (mem != null) {
                        peak = seenMemory ? Math.max(peak, mem.peak) : mem.peak;
                        seenMemory = true;
                        live = mem.last;
                    }
                    inFlight = Math.max(inFlight, peakInFlight(spans(d, replica, rank)));
                }
                Map<Phase, Double> phases = new EnumMap<>(Phase.class);
                for (Phase phase : Phase.values()) phases.put(phase, Mean.of(byPhase[phase.ordinal()]));
                double meanBusy = Mean.of(busy);
                double meanStep = Mean.of(stepSeconds);
                out.add(new RankStats(replica, rank, phases, meanBusy, meanStep, Mean.of(fraction), meanStep - meanBusy,
                        live, peak, inFlight));
            }
        }
        return out;
    }

    private RankStats rankStats(StepData d, int replica, int rank) {
        List<Event.ActionSpan> spans = spans(d, replica, rank);
        Map<Phase, Double> byPhase = new EnumMap<>(Phase.class);
        for (Phase phase : Phase.values()) byPhase.put(phase, 0.0);
        for (Event.ActionSpan s : spans) byPhase.merge(s.phase(), s.seconds(), Double::sum);
        double busy = busySeconds(spans);
        double stepSeconds = d.ended != null ? d.ended.stepSeconds() : d.lastEnd;
        Memory mem = d.memory.get(new RankKey(replica, rank));
        long staticBytes = info.staticBytesPerRank().get(rank);
        long live = mem != null ? mem.last : staticBytes;
        long peak = mem != null ? mem.peak : staticBytes;
        return new RankStats(replica, rank, byPhase, busy, stepSeconds, stepSeconds > 0 ? busy / stepSeconds : 0,
                stepSeconds - busy, live, peak, peakInFlight(spans));
    }

    /** The rank's spans of the step in start order. */
    private static List<Event.ActionSpan> spans(StepData d, int replica, int rank) {
        List<Event.ActionSpan> spans = new ArrayList<>(d.spans.getOrDefault(new RankKey(replica, rank), List.of()));
        spans.sort(SPAN_ORDER);
        return spans;
    }

    /**
     * Compute seconds summed in the evaluator's order (Evaluator: the optimizer's seconds first, then each action
     * in the rank's order), so that a virtual-time step reproduces the evaluator's busy seconds and bubble.
     */
    private static double busySeconds(List<Event.ActionSpan> sortedSpans) {
        double busy = 0;
        for (Event.ActionSpan s : sortedSpans) if (s.phase() == Phase.OPT) busy += s.seconds();
        for (Event.ActionSpan s : sortedSpans) if (s.phase() != Phase.OPT) busy += s.seconds();
        return busy;
    }

    /**
     * Replays spans in start order: +1 at each F, -1 at the last backward of that (stage, micro-batch), which is
     * its W when the schedule splits the backward (any W span for it), else its B. The peak is taken after each
     * span, before its decrement, exactly as the evaluator walks a rank's actions.
     */
    static int peakInFlight(List<Event.ActionSpan> sortedSpans) {
        Set<Long> split = new HashSet<>();
        for (Event.ActionSpan s : sortedSpans) if (s.phase() == Phase.W) split.add(key(s));
        int inFlight = 0;
        int peak = 0;
        for (Event.ActionSpan s : sortedSpans) {
            if (s.phase() == Phase.F) inFlight++;
            peak = Math.max(peak, inFlight);
            boolean last = split.contains(key(s)) ? s.phase() == Phase.W : s.phase() == Phase.B;
            if (last) inFlight--;
        }
        return peak;
    }

    private static long key(Event.ActionSpan s) {
        return ((long) s.stage() << 32) | (s.microBatch() & 0xffffffffL);
    }

    // ---------------------------------------------------------------- links

    /** Every link that carried or stalled in the step, by replica, from, to. */
    public synchronized List<LinkStats> links(int step) {
        StepData d = steps.get(step);
        if (d == null) return List.of();
        return linkStats(d);
    }

    /** Every link over every step seen: sums, and the deepest queue of any step. By replica, from, to. */
    public synchronized List<LinkStats> linksOverRun() {
        TreeMap<LinkKey, LinkStats> sum = new TreeMap<>(linkKeyOrder());
        for (StepData d : steps.values()) {
            for (LinkStats l : linkStats(d)) {
                LinkKey k = new LinkKey(l.replica(), l.fromRank(), l.toRank());
                LinkStats a = sum.get(k);
                sum.put(k, a == null ? l : new LinkStats(l.replica(), l.fromRank(), l.toRank(), a.bytes() + l.bytes(),
                        a.busySeconds() + l.busySeconds(), a.transfers() + l.transfers(),
                        a.stallSeconds() + l.stallSeconds(), Math.max(a.maxQueueDepth(), l.maxQueueDepth())));
            }
        }
        return List.copyOf(sum.values());
    }

    private static Comparator<LinkKey> linkKeyOrder() {
        return Comparator.comparingInt(LinkKey::replica).thenComparingInt(LinkKey::fromRank).thenComparingInt(LinkKey::toRank);
    }

    private static List<LinkStats> linkStats(StepData d) {
        TreeMap<LinkKey, Boolean> keys = new TreeMap<>(linkKeyOrder());
        d.transfers.keySet().forEach(k -> keys.put(k, true));
        d.stalls.keySet().forEach(k -> keys.put(k, true));
        List<LinkStats> out = new ArrayList<>();
        for (LinkKey k : keys.keySet()) {
            List<Event.TransferSpan> transfers = new ArrayList<>(d.transfers.getOrDefault(k, List.of()));
            transfers.sort(TRANSFER_ORDER);
            long bytes = 0;
            double busy = 0;
            for (Event.TransferSpan t : transfers) {
                bytes += t.bytes();
                busy += t.endSeconds() - t.startSeconds();
            }
            List<Event.CreditStall> stalls = new ArrayList<>(d.stalls.getOrDefault(k, List.of()));
            stalls.sort(Comparator.comparingDouble(Event.CreditStall::startSeconds).thenComparingDouble(Event.CreditStall::endSeconds));
            double stall = 0;
            for (Event.CreditStall c : stalls) stall += c.endSeconds() - c.startSeconds();
            out.add(new LinkStats(k.replica(), k.fromRank(), k.toRank(), bytes, busy, transfers.size(), stall,
                    maxQueueDepth(transfers)));
        }
        return out;
    }

    /**
     * The most transfers waiting at once: each waits in {@code [readySeconds, startSeconds)}; at equal times a
     * start is counted before a ready, so a transfer that leaves as another becomes ready does not stack on it.
     */
    static int maxQueueDepth(List<Event.TransferSpan> transfers) {
        List<double[]> points = new ArrayList<>();
        for (Event.TransferSpan t : transfers) {
            if (t.startSeconds() > t.readySeconds()) {
                points.add(new double[] {t.readySeconds(), +1});
                points.add(new double[] {t.startSeconds(), -1});
            }
        }
        points.sort(Comparator.<double[]>comparingDouble(p -> p[0]).thenComparingDouble(p -> p[1]));
        int depth = 0;
        int max = 0;
        for (double[] p : points) {
            depth += (int) p[1];
            max = Math.max(max, depth);
        }
        return max;
    }

    // ---------------------------------------------------------------- all-reduce, faults, totals

    /** All-reduce seconds per model stage, summed over replicas and steps. */
    public synchronized SortedMap<Integer, Double> allReduceSecondsByStage() {
        TreeMap<Integer, Double> out = new TreeMap<>();
        for (StepData d : steps.values()) {
            List<Event.AllReduceSpan> spans = new ArrayList<>(d.allReduces);
            spans.sort(Comparator.comparingInt(Event.AllReduceSpan::stage).thenComparingInt(Event.AllReduceSpan::replica)
                    .thenComparingDouble(Event.AllReduceSpan::startSeconds).thenComparingDouble(Event.AllReduceSpan::endSeconds));
            for (Event.AllReduceSpan a : spans) out.merge(a.stage(), a.endSeconds() - a.startSeconds(), Double::sum);
        }
        return Collections.unmodifiableSortedMap(out);
    }

    /** All-reduce bytes per model stage, summed over replicas and steps. */
    public synchronized SortedMap<Integer, Long> allReduceBytesByStage() {
        TreeMap<Integer, Long> out = new TreeMap<>();
        for (StepData d : steps.values()) for (Event.AllReduceSpan a : d.allReduces) out.merge(a.stage(), a.bytes(), Long::sum);
        return Collections.unmodifiableSortedMap(out);
    }

    /** Every out-of-memory event, by step, replica, rank, time. */
    /** Real-numerics runs: the loss of each step that reported one, in step order (empty otherwise). */
    public synchronized List<Double> losses() {
        return List.copyOf(losses.values());
    }

    public synchronized List<Event.OutOfMemory> outOfMemory() {
        List<Event.OutOfMemory> out = new ArrayList<>(outOfMemory);
        out.sort(Comparator.comparingInt(Event.OutOfMemory::step).thenComparingInt(Event.OutOfMemory::replica)
                .thenComparingInt(Event.OutOfMemory::rank).thenComparingDouble(Event.OutOfMemory::atSeconds)
                .thenComparingLong(Event.OutOfMemory::bytes));
        return List.copyOf(out);
    }

    /** The latest completed step's end event. */
    public synchronized Optional<Event.StepEnded> lastEnded() {
        for (StepData d : steps.descendingMap().values()) if (d.ended != null) return Optional.of(d.ended);
        return Optional.empty();
    }

    public synchronized RunTotals totals() {
        List<StepStats> done = stepStats();
        double[] stepSeconds = new double[done.size()];
        long samples = 0;
        double busy = 0;
        double runSeconds = 0;
        for (int i = 0; i < done.size(); i++) {
            StepStats s = done.get(i);
            stepSeconds[i] = s.stepSeconds();
            samples += samplesOf(steps.get(s.step()));
            busy += s.busySeconds();
            runSeconds = Math.max(runSeconds, s.runSeconds());
        }
        long linkBytes = 0;
        double stall = 0;
        for (Integer step : completedSteps()) {
            for (LinkStats l : linkStats(steps.get(step))) {
                linkBytes += l.bytes();
                stall += l.stallSeconds();
            }
        }
        double last = done.isEmpty() ? 0 : done.get(done.size() - 1).stepSeconds();
        return new RunTotals(done.size(), runSeconds, Mean.of(stepSeconds), last, samples, samples * info.seqLength(),
                busy, linkBytes, stall, outOfMemory.size());
    }
}
