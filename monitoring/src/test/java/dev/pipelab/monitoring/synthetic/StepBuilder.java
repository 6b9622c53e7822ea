package dev.pipelab.monitoring.synthetic;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TransferKind;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Builds one step's records from its spans, recording them as the stage and link actors do. Invariant: the sums of
 * each record are those its spans give under the records' documented orders (actions by start, end, phase, stage,
 * micro-batch; transfers by start, end, ready, kind, stage, micro-batch, bytes; waits by start, end; memory in the
 * order added), so a test states spans and reads the numbers a run of those spans reports.
 */
public final class StepBuilder {

    private record Key(int replica, int rank) {}

    private record LinkKey(int replica, int toReplica, int from, int to, boolean ring) {}

    private record Wait(int toRank, double start, double end) {}

    private final RunInfo info;
    private final int step;
    private final TreeMap<Key, List<StageRecord.Action>> actions = new TreeMap<>(KEY_ORDER);
    private final TreeMap<Key, List<StageRecord.MemoryChange>> memory = new TreeMap<>(KEY_ORDER);
    private final TreeMap<Key, List<Wait>> stalls = new TreeMap<>(KEY_ORDER);
    private final TreeMap<Key, List<StageRecord.AllReduce>> allReduces = new TreeMap<>(KEY_ORDER);
    private final TreeMap<Key, List<StageRecord.OutOfMemory>> outOfMemory = new TreeMap<>(KEY_ORDER);
    private final TreeMap<LinkKey, List<LinkRecord.Transfer>> transfers = new TreeMap<>(LINK_ORDER);

    private static final Comparator<Key> KEY_ORDER = Comparator.comparingInt(Key::replica).thenComparingInt(Key::rank);
    /** Pipeline links by (replica, from, to), then ring links by (replica, rank), as a StepEnded lists them. */
    private static final Comparator<LinkKey> LINK_ORDER = Comparator.comparing(LinkKey::ring)
            .thenComparingInt(LinkKey::replica).thenComparingInt(LinkKey::from).thenComparingInt(LinkKey::to);

    public StepBuilder(RunInfo info, int step) {
        this.info = info;
        this.step = step;
    }

    public int step() {
        return step;
    }

    /** A compute action lasting {@code end - start}. */
    public StepBuilder action(int replica, int rank, int stage, Phase phase, int microBatch, double start, double end) {
        return action(replica, rank, stage, phase, microBatch, start, end, end - start);
    }

    public StepBuilder action(int replica, int rank, int stage, Phase phase, int microBatch, double start, double end,
                              double duration) {
        list(actions, new Key(replica, rank)).add(new StageRecord.Action(phase, stage, microBatch, start, end, duration));
        return this;
    }

    public StepBuilder memory(int replica, int rank, double at, long bytes) {
        list(memory, new Key(replica, rank)).add(new StageRecord.MemoryChange(at, bytes));
        return this;
    }

    public StepBuilder stall(int replica, int fromRank, int toRank, double start, double end) {
        list(stalls, new Key(replica, fromRank)).add(new Wait(toRank, start, end));
        return this;
    }

    public StepBuilder allReduce(int replica, int rank, int stage, long bytes, double start, double end) {
        list(allReduces, new Key(replica, rank)).add(new StageRecord.AllReduce(stage, bytes, start, end));
        return this;
    }

    public StepBuilder outOfMemory(int replica, int rank, int stage, double at, long bytes, long capacity) {
        list(outOfMemory, new Key(replica, rank)).add(new StageRecord.OutOfMemory(stage, at, bytes, capacity));
        return this;
    }

    /** A message on pipeline link {@code from -> to} of {@code replica}. */
    public StepBuilder transfer(int replica, int from, int to, TransferKind kind, int stage, int microBatch, long bytes,
                                double ready, double start, double end) {
        list(transfers, new LinkKey(replica, replica, from, to, false))
                .add(new LinkRecord.Transfer(kind, stage, microBatch, bytes, ready, start, end));
        return this;
    }

    /** An all-reduce chunk on the ring link of {@code rank} from {@code replica} to {@code toReplica}. */
    public StepBuilder ring(int replica, int toReplica, int rank, int stage, long bytes, double ready, double start,
                            double end) {
        list(transfers, new LinkKey(replica, toReplica, rank, rank, true))
                .add(new LinkRecord.Transfer(TransferKind.ALLREDUCE, stage, -1, bytes, ready, start, end));
        return this;
    }

    public Event.StepStarted started(double runSeconds, long firstOffset) {
        return new Event.StepStarted(step, runSeconds, firstOffset, info.microBatches());
    }

    public Event.StepEnded ended(double stepSeconds, double runSeconds, long committedOffset) {
        return new Event.StepEnded(step, stepSeconds, runSeconds, committedOffset, stages(), links());
    }

    public Event.StepAbandoned abandoned(String reason) {
        return new Event.StepAbandoned(step, reason, stages(), links());
    }

    /** A record for every (replica, rank) with anything recorded, by replica then rank. */
    public List<StageRecord> stages() {
        Set<Key> keys = new TreeSet<>(KEY_ORDER);
        keys.addAll(actions.keySet());
        keys.addAll(memory.keySet());
        keys.addAll(stalls.keySet());
        keys.addAll(allReduces.keySet());
        keys.addAll(outOfMemory.keySet());
        List<StageRecord> out = new ArrayList<>();
        for (Key k : keys) out.add(stage(k));
        return out;
    }

    private StageRecord stage(Key k) {
        List<StageRecord.Action> acts = new ArrayList<>(actions.getOrDefault(k, List.of()));
        acts.sort(Comparator.comparingDouble(StageRecord.Action::startSeconds)
                .thenComparingDouble(StageRecord.Action::endSeconds).thenComparing(StageRecord.Action::phase)
                .thenComparingInt(StageRecord.Action::stage).thenComparingInt(StageRecord.Action::microBatch));
        Map<Phase, Double> byPhase = new EnumMap<>(Phase.class);
        for (Phase phase : Phase.values()) byPhase.put(phase, 0.0);
        for (StageRecord.Action a : acts) byPhase.merge(a.phase(), a.durationSeconds(), Double::sum);
        double busy = 0;
        for (StageRecord.Action a : acts) if (a.phase() == Phase.OPT) busy += a.durationSeconds();
        for (StageRecord.Action a : acts) if (a.phase() != Phase.OPT) busy += a.durationSeconds();

        List<StageRecord.MemoryChange> mem = memory.getOrDefault(k, List.of());
        long staticBytes = info.staticBytesPerRank().get(k.rank());
        long live = mem.isEmpty() ? staticBytes : mem.get(mem.size() - 1).bytes();
        long peak = mem.isEmpty() ? staticBytes : mem.stream().mapToLong(StageRecord.MemoryChange::bytes).max().orElseThrow();

        List<Wait> waits = new ArrayList<>(stalls.getOrDefault(k, List.of()));
        waits.sort(Comparator.comparingDouble(Wait::start).thenComparingDouble(Wait::end));
        TreeMap<Integer, Double> stallByRank = new TreeMap<>();
        for (Wait w : waits) stallByRank.merge(w.toRank(), w.end() - w.start(), Double::sum);
        List<StageRecord.CreditStall> stallSpans = new ArrayList<>();
        for (Wait w : stalls.getOrDefault(k, List.of())) stallSpans.add(new StageRecord.CreditStall(w.toRank(), w.start(), w.end()));

        return new StageRecord(step, k.replica(), k.rank(), byPhase, busy, live, peak, peakInFlight(acts), stallByRank,
                allReduces.getOrDefault(k, List.of()), outOfMemory.getOrDefault(k, List.of()), acts, mem, stallSpans);
    }

    /** Every link that carried, pipeline links first, as a StepEnded lists them. */
    public List<LinkRecord> links() {
        List<LinkRecord> out = new ArrayList<>();
        transfers.forEach((k, list) -> {
            List<LinkRecord.Transfer> ts = new ArrayList<>(list);
            ts.sort(Comparator.comparingDouble(LinkRecord.Transfer::startSeconds)
                    .thenComparingDouble(LinkRecord.Transfer::endSeconds).thenComparingDouble(LinkRecord.Transfer::readySeconds)
                    .thenComparing(t -> t.kind().label()).thenComparingInt(LinkRecord.Transfer::stage)
                    .thenComparingInt(LinkRecord.Transfer::microBatch).thenComparingLong(LinkRecord.Transfer::bytes));
            long bytes = 0;
            double busy = 0;
            for (LinkRecord.Transfer t : ts) {
                bytes += t.bytes();
                busy += t.endSeconds() - t.startSeconds();
            }
            out.add(new LinkRecord(step, k.replica(), k.toReplica(), k.from(), k.to(), k.ring(), bytes, busy, ts.size(),
                    maxQueueDepth(ts), ts));
        });
        return out;
    }

    /**
     * +1 at each F, -1 at the last backward of that (stage, micro-batch): its W when the rank has a W for it, else its
     * B; the peak is taken after each action, before its decrement, as the evaluator walks a rank's actions.
     */
    static int peakInFlight(List<StageRecord.Action> actions) {
        Set<List<Integer>> split = new HashSet<>();
        for (StageRecord.Action a : actions) if (a.phase() == Phase.W) split.add(List.of(a.stage(), a.microBatch()));
        int inFlight = 0;
        int peak = 0;
        for (StageRecord.Action a : actions) {
            if (a.phase() == Phase.F) inFlight++;
            peak = Math.max(peak, inFlight);
            Phase last = split.contains(List.of(a.stage(), a.microBatch())) ? Phase.W : Phase.B;
            if (a.phase() == last) inFlight--;
        }
        return peak;
    }

    /** The most transfers waiting at once in {@code [ready, start)}; at equal times a start counts before a ready. */
    static int maxQueueDepth(List<LinkRecord.Transfer> transfers) {
        List<double[]> points = new ArrayList<>();
        for (LinkRecord.Transfer t : transfers) {
            if (t.startSeconds() <= t.readySeconds()) continue;
            points.add(new double[] {t.readySeconds(), +1});
            points.add(new double[] {t.startSeconds(), -1});
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

    private static <K, V> List<V> list(TreeMap<K, List<V>> map, K key) {
        return map.computeIfAbsent(key, k -> new ArrayList<>());
    }
}
