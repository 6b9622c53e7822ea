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
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Folds telemetry events into per-step, per-rank and per-link numbers. Invariant: every query depends only on the
 * set of events accepted, never on the order in which they arrived (spans are sorted before anything is summed), so
 * two runs that emit the same events report the same numbers bit for bit. Where two spans tie on every field they
 * are sorted by but differ in duration, or two memory changes of a rank share a time, the one that arrived later
 * comes later, as it always has; and a repeated {@code StepStarted}, {@code StepEnded} or {@code StepLoss} of a step
 * replaces the earlier one.
 *
 * <p>Incremental: {@link #accept} one event at a time (it is synchronized, so it can sit behind a live sink) and
 * query at any moment. A step's numbers are final once its {@link Event.StepEnded} has arrived, unless a batch of
 * the step arrives after it, which is then counted exactly as if it had come before.
 *
 * <p>How: {@link #accept} keeps a reference to each batch ({@link RankActivity}, {@link LinkActivity}) and nothing
 * else: no object per span, no boxing, no lookup per span. Why: it runs on the telemetry consumer's thread, which
 * shares the machine's cores with the emulation, at about 100,000 spans per second. A step's batches are folded
 * ({@link StepFold}) when its {@code StepEnded} arrives, or earlier when a query needs the step: grouped by rank and
 * by link, sorted in the orders the span lists were sorted in (actions by start, end, phase, stage, micro-batch; one
 * pass when they already are, as a rank's one slice per step is) and summed in the same order as before. A batch for a step already folded is folded in at once: the step's sorted columns and the new spans
 * are sorted together and summed again, so late and early batches give the same bits.
 *
 * <p>Memory: a folded step drops its batches and its memory changes (their numbers fold exactly in arrival order) but
 * keeps its actions, transfers, credit stalls and all-reduces as sorted primitive columns (33 bytes an action, 41 a
 * transfer), because a late batch must be able to re-fold it exactly: its sums are floating-point additions in span
 * order, so one span added in the middle changes every rounding after it, and no fixed-size summary can absorb it.
 * A step shares columns equal to the neighbouring step's, so a run whose steps repeat keeps one step's columns and a
 * few references per step (emulated steps do repeat: their times count from the step's start; 1F1B, interleaved and
 * ZB-H1 runs in both clocks kept exactly one step's spans). A run whose steps all differ keeps every span.
 */
public final class RunAggregate {

    /** The pending batches of a step: an array grown by doubling, so that {@link #accept} is one store. */
    private static final int FIRST_PENDING = 16;

    private static final class StepData {
        Event.StepStarted started;
        Event.StepEnded ended;
        /** Every batch accepted before the pending ones. */
        StepFold fold = StepFold.EMPTY;
        /** Batches not folded yet, in arrival order; null when none. Invariant: none once the step has ended. */
        RankActivity[] rankBatches;
        int rankBatchCount;
        LinkActivity[] linkBatches;
        int linkBatchCount;

        void add(RankActivity r) {
            if (rankBatches == null) rankBatches = new RankActivity[FIRST_PENDING];
            else if (rankBatchCount == rankBatches.length) rankBatches = java.util.Arrays.copyOf(rankBatches, rankBatchCount * 2);
            rankBatches[rankBatchCount++] = r;
        }

        void add(LinkActivity l) {
            if (linkBatches == null) linkBatches = new LinkActivity[FIRST_PENDING];
            else if (linkBatchCount == linkBatches.length) linkBatches = java.util.Arrays.copyOf(linkBatches, linkBatchCount * 2);
            linkBatches[linkBatchCount++] = l;
        }

        boolean hasPending() {
            return rankBatchCount > 0 || linkBatchCount > 0;
        }
    }

    private final RunInfo info;
    private final TreeMap<Integer, StepData> steps = new TreeMap<>();
    private final List<Event.OutOfMemory> outOfMemory = new ArrayList<>();
    private final TreeMap<Integer, Double> losses = new TreeMap<>();
    /** The step {@link #data} found last: batches come step by step, so most need no map lookup (nor a boxed key). */
    private int lastStep;
    private StepData lastData;

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
        if (event instanceof RankActivity r) {
            // a batch without spans mentions no step, as its (absent) spans did not
            if (r.actions() == 0 && r.memoryChanges() == 0 && r.stalls() == 0 && r.allReduces() == 0) return;
            StepData d = data(r.step());
            d.add(r);
            if (d.ended != null) fold(r.step(), d);
        } else if (event instanceof LinkActivity l) {
            if (l.transfers() == 0) return;
            StepData d = data(l.step());
            d.add(l);
            if (d.ended != null) fold(l.step(), d);
        } else if (event instanceof Event.StepStarted s) {
            data(s.step()).started = s;
        } else if (event instanceof Event.StepEnded s) {
            StepData d = data(s.step());
            d.ended = s;
            fold(s.step(), d);
        } else if (event instanceof Event.OutOfMemory o) {
            outOfMemory.add(o);
        } else if (event instanceof Event.StepLoss l) {
            losses.put(l.step(), l.loss());
        } else {
            throw new IllegalArgumentException("unknown event " + event);
        }
    }

    private StepData data(int step) {
        if (lastData != null && lastStep == step) return lastData;
        StepData d = steps.computeIfAbsent(step, k -> new StepData());
        lastStep = step;
        lastData = d;
        return d;
    }

    /** The step's fold with its pending batches folded in; a neighbouring step lends equal columns to share. */
    private StepFold fold(int step, StepData d) {
        if (!d.hasPending()) return d.fold;
        Map.Entry<Integer, StepData> near = steps.lowerEntry(step);
        if (near == null) near = steps.higherEntry(step);
        StepFold neighbour = near != null ? near.getValue().fold : null;
        d.fold = d.fold.with(d.rankBatches, d.rankBatchCount, d.linkBatches, d.linkBatchCount, neighbour);
        d.rankBatches = null;
        d.rankBatchCount = 0;
        d.linkBatches = null;
        d.linkBatchCount = 0;
        return d.fold;
    }

    private StepFold fold(Map.Entry<Integer, StepData> e) {
        return fold(e.getKey(), e.getValue());
    }

    /** Spans kept by this aggregate, each shared column counted once, pending batches included (for tests). */
    synchronized long retainedSpans() {
        Set<Object> seen = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        long n = 0;
        for (StepData d : steps.values()) {
            n += d.fold.retainedSpans(seen);
            for (int i = 0; i < d.rankBatchCount; i++) {
                RankActivity r = d.rankBatches[i];
                n += r.actions() + r.stalls() + r.allReduces();
            }
            for (int i = 0; i < d.linkBatchCount; i++) n += d.linkBatches[i].transfers();
        }
        return n;
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
        double busy = fold(step, d).ranks.busyOver(info.data(), info.pipeline());
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
        if (d == null) return rankStats(StepFold.EMPTY, null, replica, rank);
        return rankStats(fold(step, d), d.ended, replica, rank);
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
        List<StepFold> folds = new ArrayList<>(steps.size());
        List<StepFold> doneFolds = new ArrayList<>();
        List<Event.StepEnded> doneEnds = new ArrayList<>();
        for (Map.Entry<Integer, StepData> e : steps.entrySet()) {
            StepFold f = fold(e);
            folds.add(f);
            if (e.getValue().ended != null) {
                doneFolds.add(f);
                doneEnds.add(e.getValue().ended);
            }
        }
        int n = doneFolds.size();
        Phase[] phases = Phase.values();
        List<RankStats> out = new ArrayList<>();
        for (int replica = 0; replica < info.data(); replica++) {
            for (int rank = 0; rank < info.pipeline(); rank++) {
                double[][] byPhase = new double[phases.length][n];
                double[] busy = new double[n];
                double[] stepSeconds = new double[n];
                double[] fraction = new double[n];
                for (int i = 0; i < n; i++) {
                    StepFold.ActionBlock a = doneFolds.get(i).ranks.actionsOf(replica, rank);
                    for (Phase phase : phases) byPhase[phase.ordinal()][i] = a == null ? 0.0 : a.busyByPhase[phase.ordinal()];
                    busy[i] = a == null ? 0 : a.busy;
                    stepSeconds[i] = doneEnds.get(i).stepSeconds();
                    fraction[i] = stepSeconds[i] > 0 ? busy[i] / stepSeconds[i] : 0;
                }
                long live = info.staticBytesPerRank().get(rank);
                long peak = live;
                int inFlight = 0;
                boolean seenMemory = false;
                for (StepFold f : folds) {
                    int k = f.ranks.find(replica, rank);
                    if (k < 0) continue;
                    if (f.ranks.memorySeen[k]) {
                        peak = seenMemory ? Math.max(peak, f.ranks.memoryPeak[k]) : f.ranks.memoryPeak[k];
                        seenMemory = true;
                        live = f.ranks.memoryLast[k];
                    }
                    StepFold.ActionBlock a = f.ranks.actions[k];
                    if (a != null) inFlight = Math.max(inFlight, a.peakInFlight);
                }
                Map<Phase, Double> means = new EnumMap<>(Phase.class);
                for (Phase phase : phases) means.put(phase, Mean.of(byPhase[phase.ordinal()]));
                double meanBusy = Mean.of(busy);
                double meanStep = Mean.of(stepSeconds);
                out.add(new RankStats(replica, rank, means, meanBusy, meanStep, Mean.of(fraction), meanStep - meanBusy,
                        live, peak, inFlight));
            }
        }
        return out;
    }

    private RankStats rankStats(StepFold f, Event.StepEnded ended, int replica, int rank) {
        int k = f.ranks.find(replica, rank);
        StepFold.ActionBlock a = k < 0 ? null : f.ranks.actions[k];
        Map<Phase, Double> byPhase = new EnumMap<>(Phase.class);
        for (Phase phase : Phase.values()) byPhase.put(phase, a == null ? 0.0 : a.busyByPhase[phase.ordinal()]);
        double busy = a == null ? 0 : a.busy;
        double stepSeconds = ended != null ? ended.stepSeconds() : f.lastEnd;
        boolean memory = k >= 0 && f.ranks.memorySeen[k];
        long staticBytes = info.staticBytesPerRank().get(rank);
        long live = memory ? f.ranks.memoryLast[k] : staticBytes;
        long peak = memory ? f.ranks.memoryPeak[k] : staticBytes;
        return new RankStats(replica, rank, byPhase, busy, stepSeconds, stepSeconds > 0 ? busy / stepSeconds : 0,
                stepSeconds - busy, live, peak, a == null ? 0 : a.peakInFlight);
    }

    /**
     * Replays spans in the given order (start order): +1 at each F, -1 at the last backward of that (stage,
     * micro-batch), which is its W when the schedule splits the backward (any W span for it), else its B. The peak is
     * taken after each span, before its decrement, exactly as the evaluator walks a rank's actions.
     */
    static int peakInFlight(List<Event.ActionSpan> sortedSpans) {
        int n = sortedSpans.size();
        byte[] phase = new byte[n];
        int[] stage = new int[n];
        int[] microBatch = new int[n];
        for (int i = 0; i < n; i++) {
            Event.ActionSpan s = sortedSpans.get(i);
            phase[i] = (byte) s.phase().ordinal();
            stage[i] = s.stage();
            microBatch[i] = s.microBatch();
        }
        return StepFold.peakInFlight(n, phase, stage, microBatch);
    }

    // ---------------------------------------------------------------- links

    /** Every link that carried or stalled in the step, by replica, from, to. */
    public synchronized List<LinkStats> links(int step) {
        StepData d = steps.get(step);
        if (d == null) return List.of();
        return linkStats(fold(step, d));
    }

    /** Every link over every step seen: sums, and the deepest queue of any step. By replica, from, to. */
    public synchronized List<LinkStats> linksOverRun() {
        // the sums run over the steps in ascending order, each link's first step giving its numbers as they are
        record Key(int replica, int fromRank, int toRank) {}
        TreeMap<Key, LinkStats> sum = new TreeMap<>(Comparator.comparingInt(Key::replica).thenComparingInt(Key::fromRank)
                .thenComparingInt(Key::toRank));
        for (Map.Entry<Integer, StepData> e : steps.entrySet()) {
            StepFold.LinkSide links = fold(e).links;
            for (int i = 0; i < links.n; i++) {
                LinkStats l = links.stats(i);
                Key k = new Key(l.replica(), l.fromRank(), l.toRank());
                LinkStats a = sum.get(k);
                sum.put(k, a == null ? l : new LinkStats(l.replica(), l.fromRank(), l.toRank(), a.bytes() + l.bytes(),
                        a.busySeconds() + l.busySeconds(), a.transfers() + l.transfers(),
                        a.stallSeconds() + l.stallSeconds(), Math.max(a.maxQueueDepth(), l.maxQueueDepth())));
            }
        }
        return List.copyOf(sum.values());
    }

    private static List<LinkStats> linkStats(StepFold f) {
        List<LinkStats> out = new ArrayList<>(f.links.n);
        for (int i = 0; i < f.links.n; i++) out.add(f.links.stats(i));
        return out;
    }

    /**
     * The most transfers waiting at once: each waits in {@code [readySeconds, startSeconds)}; at equal times a
     * start is counted before a ready, so a transfer that leaves as another becomes ready does not stack on it.
     */
    static int maxQueueDepth(List<Event.TransferSpan> transfers) {
        int n = transfers.size();
        double[] ready = new double[n];
        double[] start = new double[n];
        for (int i = 0; i < n; i++) {
            ready[i] = transfers.get(i).readySeconds();
            start[i] = transfers.get(i).startSeconds();
        }
        return StepFold.maxQueueDepth(n, ready, start);
    }

    // ---------------------------------------------------------------- all-reduce, faults, totals

    /** All-reduce seconds per model stage, summed over replicas and steps. */
    public synchronized SortedMap<Integer, Double> allReduceSecondsByStage() {
        // one chain of additions per stage across the steps in ascending order, each step's spans by stage, replica,
        // start, end: the first span of a stage gives its value as it is
        TreeMap<Integer, Double> out = new TreeMap<>();
        for (Map.Entry<Integer, StepData> e : steps.entrySet()) {
            StepFold.AllReduces a = fold(e).allReduces;
            for (int i = 0; i < a.n; i++) out.merge(a.stage[i], a.end[i] - a.start[i], Double::sum);
        }
        return Collections.unmodifiableSortedMap(out);
    }

    /** All-reduce bytes per model stage, summed over replicas and steps. */
    public synchronized SortedMap<Integer, Long> allReduceBytesByStage() {
        TreeMap<Integer, Long> out = new TreeMap<>();
        for (Map.Entry<Integer, StepData> e : steps.entrySet()) {
            StepFold.AllReduces a = fold(e).allReduces;
            for (int i = 0; i < a.n; i++) out.merge(a.stage[i], a.bytes[i], Long::sum);
        }
        return Collections.unmodifiableSortedMap(out);
    }

    /** Real-numerics runs: the loss of each step that reported one, in step order (empty otherwise). */
    public synchronized List<Double> losses() {
        return List.copyOf(losses.values());
    }

    /** Every out-of-memory event, by step, replica, rank, time. */
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
        for (Map.Entry<Integer, StepData> e : steps.entrySet()) {
            if (e.getValue().ended == null) continue;
            StepFold.LinkSide links = fold(e).links;
            for (int i = 0; i < links.n; i++) {
                linkBytes += links.transfers[i] == null ? 0 : links.transfers[i].bytes;
                stall += links.stalls[i] == null ? 0.0 : links.stalls[i].stall;
            }
        }
        double last = done.isEmpty() ? 0 : done.get(done.size() - 1).stepSeconds();
        return new RunTotals(done.size(), runSeconds, Mean.of(stepSeconds), last, samples, samples * info.seqLength(),
                busy, linkBytes, stall, outOfMemory.size());
    }
}
