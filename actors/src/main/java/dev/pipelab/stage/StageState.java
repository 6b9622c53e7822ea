package dev.pipelab.stage;

import dev.pipelab.fault.FaultKind;
import dev.pipelab.fault.FaultWindow;
import dev.pipelab.link.CreditWindow;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.monitoring.TransferKind;
import dev.pipelab.schedule.Action;
import dev.pipelab.schedule.RingAllReduce;
import dev.pipelab.schedule.StageCost;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The pure decisions of one pipeline rank of one replica during one step: which action runs next and when,
 * what it sends, what it allocates and frees, when each model stage's all-reduce runs on the rank's collective
 * channel, and when the optimizer step runs. Invariant: the rank runs its actions strictly in the schedule's
 * order and each starts at {@code max(rank free, input arrived, credit granted[, now])} — the evaluator's rule,
 * computed with the same floating-point operations in the same order, so a virtual run is bit-identical.
 *
 * <p>Driving it: {@link #beginStep}, then feed what arrives ({@link #delivered}, {@link #granted},
 * {@link #ringChunk}); {@link #startNext} starts the next action (or the optimizer) when it can,
 * {@link #finishRunning} completes it; {@link #drain} hands out the effects to carry out, in order.
 *
 * <p>Telemetry is not an effect: {@link #record} builds the rank's {@link StageRecord} of the step from what the state
 * keeps anyway (every action's start, end and duration, the credit windows' stalls, each all-reduce's start and end),
 * at the level it was given. Only the credit waits, which nothing else keeps, are written down as they happen, and only
 * at {@link TelemetryLevel#SPANS}. So the hot path allocates no object per span.
 */
public final class StageState {

    /** Something the actor must do or report, in the order the state produced it. */
    public sealed interface Effect {}

    /** Tell the stage on {@code senderRank} that the consumer of its message {@code seq} started at {@code at}. */
    public record Grant(int senderRank, int seq, double at) implements Effect {}

    /** The rank's live memory exceeds the device's: first time this step. */
    public record OutOfMemory(int stage, double at, long bytes, long capacityBytes) implements Effect {}

    /** Hand a message to the link towards {@code toRank}. */
    public record Send(int toRank, int seq, int toPosition, int stage, int microBatch, TransferKind kind, long bytes,
                       double ready) implements Effect {}

    /** Hand ring chunk {@code index} of {@code stage}'s all-reduce to the ring link (to the right neighbour). */
    public record RingSend(int stage, int index, long bytes, LinkSpec link, double ready) implements Effect {}

    /**
     * Real work behind the actions (real-numerics mode): each call computes and returns the measured seconds,
     * which become the action's duration in place of the cost model's.
     */
    public interface Work {
        /** Computes the action at {@code position}; returns its wall seconds. */
        double run(int position);

        /** Runs the optimizer step of every model stage of the rank; returns its wall seconds. */
        double optimize();
    }

    /** The telemetry phase of each action kind, by ordinal. */
    private static final Phase[] PHASE_OF_KIND = Arrays.stream(Action.Kind.values()).map(k -> Phase.valueOf(k.name()))
            .toArray(Phase[]::new);

    private final StageProgram program;
    /** Per position, then the optimizer at {@code n}: each action's telemetry phase. */
    private final Phase[] phaseOf;
    private final Work work;
    private final TelemetryLevel telemetry;
    /** The credit waits of the step, in the order they ended ({@code SPANS} only). */
    private final List<StageRecord.CreditStall> stalls = new ArrayList<>();
    /** The moments of the step the rank's memory exceeded the device's. */
    private final List<StageRecord.OutOfMemory> outOfMemory = new ArrayList<>();
    private final double[] duration;
    private final CreditWindow[] windows;
    private final boolean bounded;
    private final long capacityBytes;
    private final long staticBytes;
    private final int m;
    private final int chunks;

    private int step = -1;
    private List<Long> offsets = List.of();
    private final List<Long> consumed = new ArrayList<>();
    private int cursor;
    private double rankFree;
    private final double[] arrival;
    private final double[] starts;
    private final double[] ends;
    private long live;
    private long peakLive;
    private int inFlight;
    private int peakInFlight;
    private boolean oomReported;
    private final boolean[] recomputed;
    /**
     * The rank's memory changes in a step, in the order startNext and finishRunning make them (positions in order; a
     * position's start change, then its end change): which position's start ({@code 2j}) or end ({@code 2j + 1}) each
     * is at, and the static plus live bytes after it. All static: positions run in order, so whether a recompute
     * precedes a last backward is known up front. {@code memoryOf[j]} is the first change of position {@code j}
     * ({@code memoryOf[n]} their count); {@link #record} reads their times from the actions' starts and ends.
     */
    private final int[] memoryWhen;
    private final long[] memoryBytes;
    private final int[] memoryOf;
    private final int[] backwardsLeft;
    private final double[] stageDone;
    private final boolean[] queued;
    private final boolean[] dispatched;
    private final double[] allReduceStart;
    private final double[] allReduceEnd;
    private final double[][] ringArrival;
    /** The chunks in the order their all-reduces took the channel this step (the first {@code dispatchedCount}). */
    private final int[] dispatchOrder;
    private int dispatchedCount;
    private int ringChunk = -1;     // chunk whose all-reduce is running on the channel, -1 when idle
    private int ringNextIndex;      // next chunk message index this replica sends
    private double channelFree;
    private double optimizerSeconds;
    /** The step's {@code stage.slowdown} and {@code stage.memory_pressure} windows (docs/faults.md); usually none. */
    private List<FaultWindow> faults = List.of();
    private double optimizerStart = Double.NaN;
    private double optimizerEnd = Double.NaN;
    private int running = -2;       // position running, -1 the optimizer, -2 nothing
    private boolean done;
    private final List<Effect> effects = new ArrayList<>();

    /**
     * @param linkBuffer    messages each receiver buffers per link, or {@link CreditWindow#UNBOUNDED}
     * @param capacityBytes device memory; exceeding it is reported once per step
     */
    public StageState(StageProgram program, int linkBuffer, long capacityBytes) {
        this(program, linkBuffer, capacityBytes, Optional.empty(), TelemetryLevel.SPANS);
    }

    /**
     * With real {@code work} whose measured seconds replace the cost model's durations (empty: the cost model's), see
     * {@link Work}, recording the step at {@code telemetry}.
     */
    public StageState(StageProgram program, int linkBuffer, long capacityBytes, Optional<? extends Work> work,
                      TelemetryLevel telemetry) {
        this.program = program;
        this.work = work.orElse(null); // null inside only: the hot path tests a field, not an Optional
        this.telemetry = telemetry;
        int n = program.size();
        // positions, then the optimizer at n (its duration is known once the all-reduces are dispatched)
        this.duration = new double[n + 1];
        for (int j = 0; j < n; j++) duration[j] = program.duration(j);
        this.phaseOf = new Phase[n + 1];
        for (int j = 0; j < n; j++) phaseOf[j] = PHASE_OF_KIND[program.action(j).kind().ordinal()];
        phaseOf[n] = Phase.OPT;
        int p = program.ranks();
        this.windows = new CreditWindow[p];
        for (int q : program.outgoingRanks()) windows[q] = new CreditWindow(linkBuffer, program.messagesTo(q));
        this.bounded = linkBuffer != CreditWindow.UNBOUNDED;
        this.capacityBytes = capacityBytes;
        this.staticBytes = program.staticBytes();
        this.m = program.microBatches();
        this.chunks = program.chunks();
        this.arrival = new double[n];
        this.starts = new double[n + 1];
        this.ends = new double[n + 1];
        this.recomputed = new boolean[chunks * m];
        // the memory changes each position makes, as startNext and finishRunning make them (positions run in order, so
        // whether a recompute precedes a last backward is static)
        boolean[] recomputeSeen = new boolean[chunks * m];
        int[] when = new int[2 * n];
        long[] bytesAfter = new long[2 * n];
        this.memoryOf = new int[n + 1];
        int changes = 0;
        long replayed = 0;
        for (int j = 0; j < n; j++) {
            memoryOf[j] = changes;
            Action a = program.action(j);
            StageCost sc = program.cost(a.stage());
            long startDelta = 0;
            if (a.kind() == Action.Kind.F) startDelta = sc.stashBytes();
            if (a.kind() == Action.Kind.R) {
                startDelta = sc.recomputeBytes();
                recomputeSeen[key(a)] = true;
            }
            if (startDelta != 0) { // the same sums, in the same order, as startNext and finishRunning compute them
                replayed += startDelta;
                when[changes] = 2 * j;
                bytesAfter[changes++] = staticBytes + replayed;
            }
            if (program.lastBackward(j)) {
                replayed -= sc.stashBytes() + (recomputeSeen[key(a)] ? sc.recomputeBytes() : 0);
                recomputeSeen[key(a)] = false;
                when[changes] = 2 * j + 1;
                bytesAfter[changes++] = staticBytes + replayed;
            }
        }
        memoryOf[n] = changes;
        this.memoryWhen = Arrays.copyOf(when, changes);
        this.memoryBytes = Arrays.copyOf(bytesAfter, changes);
        this.backwardsLeft = new int[chunks];
        this.stageDone = new double[chunks];
        this.queued = new boolean[chunks];
        this.dispatched = new boolean[chunks];
        this.allReduceStart = new double[chunks];
        this.allReduceEnd = new double[chunks];
        this.dispatchOrder = new int[chunks];
        this.ringArrival = new double[chunks][];
        for (int c = 0; c < chunks; c++) ringArrival[c] = new double[ring(c).steps()];
    }

    public StageProgram program() { return program; }

    public int step() { return step; }

    /** Starts step {@code step} in step-local time (everything free at 0); {@code offsets} feed stage 0's forwards. */
    public void beginStep(int step, List<Long> offsets) {
        this.step = step;
        this.offsets = List.copyOf(offsets);
        consumed.clear();
        faults = List.of();
        cursor = 0;
        dispatchedCount = 0;
        stalls.clear();
        outOfMemory.clear();
        rankFree = 0;
        Arrays.fill(arrival, Double.NaN);
        Arrays.fill(starts, Double.NaN);
        Arrays.fill(ends, Double.NaN);
        live = 0;
        peakLive = 0;
        inFlight = 0;
        peakInFlight = 0;
        oomReported = false;
        Arrays.fill(recomputed, false);
        Arrays.fill(backwardsLeft, m);
        Arrays.fill(stageDone, Double.NaN);
        Arrays.fill(queued, false);
        Arrays.fill(dispatched, false);
        Arrays.fill(allReduceStart, Double.NaN);
        Arrays.fill(allReduceEnd, Double.NaN);
        for (double[] a : ringArrival) Arrays.fill(a, Double.NaN);
        for (CreditWindow w : windows) if (w != null) w.reset();
        ringChunk = -1;
        ringNextIndex = 0;
        channelFree = 0;
        optimizerSeconds = 0;
        optimizerStart = Double.NaN;
        optimizerEnd = Double.NaN;
        running = -2;
        done = false;
        // a rank whose model stages have no backward at all (m is never 0, so this does not happen) would be done
    }

    /**
     * The step's faults on this stage: {@code stage.slowdown} multiplies the duration of what starts inside its window,
     * {@code stage.memory_pressure} takes its fraction of the device's memory from allocations inside its window
     * (other kinds are ignored here). Call after {@link #beginStep}.
     */
    public void faults(List<FaultWindow> windows) {
        this.faults = List.copyOf(windows);
    }

    /** When work ready at {@code t} can start: after every {@code node.pause} window that covers it (the node is stopped). */
    private double stalled(double t) {
        boolean moved = true;
        while (moved) {
            moved = false;
            for (FaultWindow w : faults) {
                if (w.kind() == FaultKind.NODE_PAUSE && w.covers(t)) {
                    t = w.toSeconds();
                    moved = true;
                }
            }
        }
        return t;
    }

    /** The product of the slowdown factors acting at {@code t} (1 when none does). */
    private double slowdown(double t) {
        double f = 1.0;
        for (FaultWindow w : faults) if (w.kind() == FaultKind.STAGE_SLOWDOWN && w.covers(t)) f *= w.value();
        return f;
    }

    /** Device memory left at {@code t} once the memory-pressure faults acting then took their fractions. */
    private long capacityAt(double t) {
        double taken = 0;
        for (FaultWindow w : faults) if (w.kind() == FaultKind.STAGE_MEMORY_PRESSURE && w.covers(t)) taken += w.value();
        return taken == 0 ? capacityBytes : (long) (capacityBytes * Math.max(0.0, 1.0 - taken));
    }

    /** Whether the input of the action at {@code position} has arrived in this step. */
    public boolean hasArrived(int position) {
        return !Double.isNaN(arrival[position]);
    }

    /** Whether ring chunk {@code index} of {@code stage}'s all-reduce has arrived in this step. */
    public boolean hasRingChunk(int stage, int index) {
        return !Double.isNaN(ringArrival[program.chunkOf(stage)][index]);
    }

    /** The input of the action at {@code position} arrived at {@code arrivalSeconds}. */
    public void delivered(int position, double arrivalSeconds) {
        arrival[position] = arrivalSeconds;
    }

    /** The rank {@code receiverRank} started the consumer of this rank's message {@code seq} at {@code at}. */
    public void granted(int receiverRank, int seq, double at) {
        CreditWindow w = windows[receiverRank];
        if (w == null) throw new IllegalArgumentException("rank " + program.rank() + " sends nothing to rank " + receiverRank);
        w.granted(seq, at);
    }

    /** Ring chunk {@code index} of {@code stage}'s all-reduce arrived from the left neighbour at {@code at}. */
    public void ringChunk(int stage, int index, double at) {
        int c = program.chunkOf(stage);
        ringArrival[c][index] = at;
        pumpChannel();
    }

    public boolean isRunning() { return running != -2; }

    public boolean isDone() { return done; }

    /** End of what is running (action or optimizer), NaN when nothing is. */
    public double runningEnd() {
        if (running == -1) return optimizerEnd;
        return running >= 0 ? ends[running] : Double.NaN;
    }

    /**
     * Starts the next action, or the optimizer once every action and all-reduce is done, if it can start now.
     *
     * @param now emulated present ({@code -Infinity} in virtual time): nothing starts before it
     * @return whether something started
     */
    public boolean startNext(double now) {
        if (running != -2 || done || step < 0) return false;
        final int n = program.size();
        if (cursor < n) {
            int j = cursor;
            double ready = rankFree;
            if (now > ready) ready = now;
            if (program.needsInput(j)) {
                double in = arrival[j];
                if (Double.isNaN(in)) return false;
                if (in > ready) ready = in;
            }
            int to = program.outRank(j);
            double creditFrom = Double.NaN;
            if (program.remoteOutput(j)) {
                CreditWindow w = windows[to];
                int seq = program.outSeq(j);
                if (w.needsCredit(seq)) {
                    double credit = w.creditTime(seq);
                    if (Double.isNaN(credit)) return false;
                    if (credit > ready) {
                        w.stalled(credit - ready);
                        creditFrom = ready;
                        ready = credit;
                    }
                }
            }
            if (!Double.isNaN(creditFrom) && telemetry == TelemetryLevel.SPANS) {
                stalls.add(new StageRecord.CreditStall(to, creditFrom, ready));
            }
            if (!faults.isEmpty()) ready = stalled(ready);
            Action a = program.action(j);
            double base = work != null ? work.run(j) : program.duration(j);
            double slow = faults.isEmpty() ? 1.0 : slowdown(ready);
            duration[j] = slow == 1.0 ? base : base * slow;
            double end = ready + duration[j];
            starts[j] = ready;
            ends[j] = end;
            rankFree = end;
            running = j;
            if (bounded && program.remoteInput(j)) {
                effects.add(new Grant(program.inputRank(j), program.inputSeq(j), ready));
            }
            if (a.kind() == Action.Kind.F && a.stage() == 0) {
                consumed.add(a.microBatch() < offsets.size() ? offsets.get(a.microBatch()) : -1L);
            }
            StageCost sc = program.cost(a.stage());
            long before = live;
            switch (a.kind()) {
                case F -> {
                    live += sc.stashBytes();
                    inFlight++;
                }
                case R -> {
                    live += sc.recomputeBytes();
                    recomputed[key(a)] = true;
                }
                default -> { }
            }
            peakLive = Math.max(peakLive, live);
            peakInFlight = Math.max(peakInFlight, inFlight);
            if (live != before) {
                long capacity = faults.isEmpty() ? capacityBytes : capacityAt(ready);
                if (staticBytes + live > capacity && !oomReported) {
                    oomReported = true;
                    effects.add(new OutOfMemory(a.stage(), ready, staticBytes + live, capacity));
                    outOfMemory.add(new StageRecord.OutOfMemory(a.stage(), ready, staticBytes + live, capacity));
                }
            }
            pumpChannel();
            return true;
        }
        if (!allReduced()) return false;
        double s = Math.max(rankFree, channelFree);
        if (now > s) s = now;
        if (!faults.isEmpty()) s = stalled(s);
        optimizerStart = s;
        if (work != null) optimizerSeconds = work.optimize();
        if (!faults.isEmpty()) optimizerSeconds *= slowdown(s);
        optimizerEnd = s + optimizerSeconds;
        running = -1;
        return true;
    }

    /** Completes what {@link #startNext} started: sends its output, frees memory, queues finished stages' all-reduces. */
    public void finishRunning() {
        if (running == -2) throw new IllegalStateException("nothing is running");
        if (running == -1) {
            running = -2;
            done = true;
            int n = program.size();
            starts[n] = optimizerStart;
            ends[n] = optimizerEnd;
            duration[n] = optimizerSeconds;
            return;
        }
        int j = running;
        running = -2;
        cursor++;
        Action a = program.action(j);
        double end = ends[j];
        int to = program.outRank(j);
        if (to != StageProgram.NONE) {
            if (to == program.rank()) {
                arrival[program.outPosition(j)] = end;
            } else {
                int seq = program.outSeq(j);
                windows[to].sent(seq);
                effects.add(new Send(to, seq, program.outPosition(j), a.stage(), a.microBatch(), program.outKind(j),
                        program.outBytes(j), end));
            }
        }
        if (program.lastBackward(j)) {
            StageCost sc = program.cost(a.stage());
            int key = key(a);
            live -= sc.stashBytes() + (recomputed[key] ? sc.recomputeBytes() : 0);
            recomputed[key] = false;
            inFlight--;
            int c = program.chunkOf(a.stage());
            if (--backwardsLeft[c] == 0) {
                stageDone[c] = end;
                queued[c] = true;
            }
        }
        pumpChannel();
    }

    /**
     * What the rank did in the step so far (all of it once {@link #isDone()}), at the state's telemetry level: the sums
     * always, the actions (positions in order, then the optimizer), memory changes and credit waits at
     * {@link TelemetryLevel#SPANS}. Busy time adds the finished actions' durations as {@link #report} does (the
     * optimizer first, the evaluator's order); each phase's busy time adds them in start order.
     */
    public StageRecord record(int replica) {
        int n = program.size();
        int finished = cursor;
        boolean spans = telemetry == TelemetryLevel.SPANS;
        double busy = done ? optimizerSeconds : 0.0;
        for (int j = 0; j < finished; j++) busy += duration[j];
        double[] phaseSeconds = new double[Phase.values().length];
        List<StageRecord.Action> actions = new ArrayList<>(spans ? finished + 1 : 0);
        for (int j = 0; j <= finished; j++) {
            if (j == finished && !(j == n && done)) break; // the optimizer (at n) only once it has run
            phaseSeconds[phaseOf[j].ordinal()] += duration[j];
            if (spans) {
                int stage = j < n ? program.action(j).stage() : -1;
                int microBatch = j < n ? program.action(j).microBatch() : -1;
                actions.add(new StageRecord.Action(phaseOf[j], stage, microBatch, starts[j], ends[j], duration[j]));
            }
        }
        // memory changes of the finished positions: a position's start change is recorded with the position, once it ends
        long liveBytes = staticBytes;
        List<StageRecord.MemoryChange> memory = new ArrayList<>();
        int changes = memoryOf[Math.min(finished, n)];
        for (int k = 0; k < changes; k++) {
            int w = memoryWhen[k];
            liveBytes = memoryBytes[k];
            if (spans) memory.add(new StageRecord.MemoryChange((w & 1) == 0 ? starts[w >> 1] : ends[w >> 1], memoryBytes[k]));
        }
        Map<Integer, Double> stallByRank = new TreeMap<>();
        for (int q = 0; q < windows.length; q++) {
            if (windows[q] != null && windows[q].stallSeconds() > 0) stallByRank.put(q, windows[q].stallSeconds());
        }
        List<StageRecord.AllReduce> allReduces = new ArrayList<>();
        for (int d = 0; d < dispatchedCount; d++) {
            int c = dispatchOrder[d];
            if (Double.isNaN(allReduceEnd[c])) continue;
            RingAllReduce ring = ring(c);
            allReduces.add(new StageRecord.AllReduce(program.stageOfChunk(c), ring.chunkBytes() * ring.steps(),
                    allReduceStart[c], allReduceEnd[c]));
        }
        EnumMap<Phase, Double> byPhase = new EnumMap<>(Phase.class);
        for (Phase phase : Phase.values()) byPhase.put(phase, phaseSeconds[phase.ordinal()]);
        return new StageRecord(step, replica, program.rank(), byPhase, busy, liveBytes, staticBytes + peakLive, peakInFlight,
                new TreeMap<>(stallByRank), allReduces, outOfMemory, actions, memory, spans ? stalls : List.of());
    }

    /** Effects produced since the last call, in order. */
    public List<Effect> drain() {
        List<Effect> out = List.copyOf(effects);
        effects.clear();
        return out;
    }

    private int key(Action a) {
        return program.chunkOf(a.stage()) * m + a.microBatch();
    }

    private RingAllReduce ring(int chunk) {
        return program.cost(program.stageOfChunk(chunk)).allReduce();
    }

    private boolean allReduced() {
        for (int c = 0; c < chunks; c++) if (Double.isNaN(allReduceEnd[c])) return false;
        return true;
    }

    /**
     * The collective channel: FIFO over the rank's model stages in order of completion (ties by stage index,
     * as the evaluator sorts them). A finished stage is dispatched once no unfinished stage with a smaller index
     * could still finish at the same time.
     */
    private void pumpChannel() {
        while (true) {
            if (ringChunk >= 0) {
                if (!advanceRing()) return;
                continue;
            }
            int head = -1;
            for (int c = 0; c < chunks; c++) {
                if (!queued[c] || dispatched[c]) continue;
                if (head < 0 || stageDone[c] < stageDone[head]) head = c; // chunk order = stage order on a rank
            }
            if (head < 0) return;
            double t = stageDone[head];
            boolean allActionsDone = cursor >= program.size() && running == -2;
            if (!allActionsDone && !(rankFree > t)) {
                for (int c = 0; c < head; c++) if (!queued[c]) return; // a smaller stage might still finish at t
            }
            dispatched[head] = true;
            dispatchOrder[dispatchedCount++] = head;
            int k = program.stageOfChunk(head);
            double s = Math.max(channelFree, t);
            allReduceStart[head] = s;
            optimizerSeconds += program.cost(k).optimizerSeconds();
            RingAllReduce ring = ring(head);
            if (ring.steps() == 0) {
                allReduceEnd[head] = ring.endFrom(s);
                channelFree = allReduceEnd[head];
                continue;
            }
            ringChunk = head;
            ringNextIndex = 1;
            effects.add(new RingSend(k, 0, ring.chunkBytes(), ring.link(), s));
        }
    }

    /** Sends the next ring chunk or ends the all-reduce when the left neighbour's chunk is in; false when waiting. */
    private boolean advanceRing() {
        int c = ringChunk;
        RingAllReduce ring = ring(c);
        double in = ringArrival[c][ringNextIndex - 1];
        if (Double.isNaN(in)) return false;
        double s = allReduceStart[c];
        double ready = Math.max(s, in);
        if (ringNextIndex < ring.steps()) {
            effects.add(new RingSend(program.stageOfChunk(c), ringNextIndex, ring.chunkBytes(), ring.link(), ready));
            ringNextIndex++;
            return true;
        }
        allReduceEnd[c] = in;
        channelFree = in;
        ringChunk = -1;
        return true;
    }

    /**
     * What this rank waits for, in the evaluator's {@code DeadlockException} wording; empty when it is running,
     * done, or could start.
     */
    public List<String> stuck() {
        List<String> out = new ArrayList<>();
        if (done || running != -2 || step < 0) return out;
        int r = program.rank();
        int n = program.size();
        if (cursor < n) {
            int j = cursor;
            Action a = program.action(j);
            String what = a.toString();
            boolean inputMissing = program.needsInput(j) && Double.isNaN(arrival[j]);
            boolean creditMissing = false;
            String creditWhy = "";
            if (program.remoteOutput(j)) {
                int to = program.outRank(j);
                int seq = program.outSeq(j);
                CreditWindow w = windows[to];
                if (w.needsCredit(seq) && Double.isNaN(w.creditTime(seq))) {
                    creditMissing = true;
                    creditWhy = "waits for credit on link " + r + "->" + to + " (buffer " + w.buffer() + " full until "
                            + program.consumerOf(to, seq - w.buffer()) + " starts)";
                }
            }
            String why;
            if (inputMissing) {
                why = a.kind() == Action.Kind.F
                        ? "waits for the activation of " + new Action(a.stage() - 1, Action.Kind.F, a.microBatch())
                        : "waits for the gradient of " + new Action(a.stage() + 1, Action.Kind.B, a.microBatch());
                if (creditMissing) why += " (and for credit)";
            } else if (creditMissing) {
                why = creditWhy;
            } else {
                return out;
            }
            out.add("rank " + r + " action #" + j + " " + what + ": " + why);
            return out;
        }
        if (ringChunk >= 0) {
            out.add("rank " + r + " all-reduce of stage " + program.stageOfChunk(ringChunk) + ": waits for ring chunk "
                    + (ringNextIndex - 1) + " from the left neighbour");
        } else if (!allReduced()) {
            out.add("rank " + r + " optimizer: waits for the all-reduces");
        }
        return out;
    }

    /** The step's numbers once {@link #isDone()}. */
    public StageReport report(int replica) {
        if (!done) throw new IllegalStateException("rank " + program.rank() + " has not finished step " + step);
        double busy = optimizerSeconds;
        for (int j = 0; j < program.size(); j++) busy += duration[j];
        double[] stall = new double[windows.length];
        int[] maxOutstanding = new int[windows.length];
        for (int q = 0; q < windows.length; q++) {
            if (windows[q] != null) {
                stall[q] = windows[q].stallSeconds();
                maxOutstanding[q] = windows[q].maxOutstanding();
            }
        }
        int n = program.size();
        return new StageReport(step, replica, program.rank(), Arrays.copyOf(starts, n), Arrays.copyOf(ends, n), busy, staticBytes + peakLive,
                peakInFlight, optimizerStart, optimizerEnd, allReduceStart.clone(), allReduceEnd.clone(), stall,
                List.copyOf(consumed));
    }
}
