package dev.pipelab.monitoring;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Everything a consumer shows of one completed step, computed once from the step's records. Invariant: a pure function
 * of the {@link RunInfo}, the step's {@link Event.StepStarted} (when one came) and its {@link Event.StepEnded}, whose
 * floating-point sums are taken in one documented order, so every consumer (progress line, dashboard, metrics, report)
 * shows the same bits, and a virtual-time step agrees with the evaluator bit for bit.
 *
 * <p>Orders: {@code ranks} by (replica, rank), every one of the run's p·d present (a rank without a record did
 * nothing: zero busy, static memory); {@code links} by (replica, from, to), a ring link being (replica, rank, rank);
 * {@code allReduces} by (stage, replica, start, end); {@code outOfMemory} by (replica, rank, time, bytes). The step's
 * busy seconds add the ranks' busy seconds in {@code ranks} order starting from 0.0.
 *
 * @param startSeconds  where the step starts on the run's axis ({@code StepStarted.runSeconds}, else end minus time)
 * @param microBatches  micro-batches per replica of the step
 * @param ended         the step's end event, whose records the trace and the Gantt charts draw
 */
public record StepSummary(StepStats stats, double startSeconds, int microBatches, List<RankStats> ranks,
                          List<LinkStats> links, List<AllReduce> allReduces, List<OutOfMemory> outOfMemory,
                          Event.StepEnded ended) {

    /** The gradient all-reduce of model stage {@code stage} seen from {@code replica}. */
    public record AllReduce(int stage, int replica, long bytes, double startSeconds, double endSeconds) {
        public double seconds() {
            return endSeconds - startSeconds;
        }
    }

    /** A moment of the step at which the live memory of a rank would have exceeded its device's. */
    public record OutOfMemory(int step, int replica, int rank, double atSeconds, long bytes, long capacityBytes) {}

    /** A directed link of one replica, ordered as the report lists links. */
    record LinkKey(int replica, int fromRank, int toRank) implements Comparable<LinkKey> {
        private static final Comparator<LinkKey> ORDER = Comparator.comparingInt(LinkKey::replica)
                .thenComparingInt(LinkKey::fromRank).thenComparingInt(LinkKey::toRank);

        static LinkKey of(LinkStats l) {
            return new LinkKey(l.replica(), l.fromRank(), l.toRank());
        }

        @Override
        public int compareTo(LinkKey o) {
            return ORDER.compare(this, o);
        }
    }

    public StepSummary {
        Objects.requireNonNull(stats, "stats");
        Objects.requireNonNull(ended, "ended");
        ranks = List.copyOf(ranks);
        links = List.copyOf(links);
        allReduces = List.copyOf(allReduces);
        outOfMemory = List.copyOf(outOfMemory);
    }

    public int step() {
        return stats.step();
    }

    /** One (replica, rank) of the step. */
    public RankStats rank(int replica, int rank) {
        for (RankStats r : ranks) if (r.replica() == replica && r.rank() == rank) return r;
        throw new IllegalArgumentException("no replica " + replica + " rank " + rank + " in step " + step());
    }

    /** The summary of {@code ended}; {@code started} may be empty when the step's start was not seen. */
    public static StepSummary of(RunInfo info, Optional<Event.StepStarted> started, Event.StepEnded ended) {
        int p = info.pipeline();
        int d = info.data();
        double stepSeconds = ended.stepSeconds();
        Map<Long, StageRecord> byRank = new HashMap<>();
        for (StageRecord s : ended.stages()) {
            if (s.replica() < 0 || s.replica() >= d || s.rank() < 0 || s.rank() >= p) {
                throw new IllegalArgumentException("replica " + s.replica() + " rank " + s.rank() + " outside d=" + d
                        + " p=" + p);
            }
            byRank.put(key(s.replica(), s.rank()), s);
        }

        List<RankStats> ranks = new ArrayList<>(p * d);
        List<AllReduce> allReduces = new ArrayList<>();
        List<OutOfMemory> outOfMemory = new ArrayList<>();
        TreeMap<LinkKey, Double> stalls = new TreeMap<>();
        double busy = 0;
        for (int replica = 0; replica < d; replica++) {
            for (int rank = 0; rank < p; rank++) {
                StageRecord s = byRank.get(key(replica, rank));
                RankStats r = s == null ? idle(info, replica, rank, stepSeconds) : rankStats(s, stepSeconds);
                ranks.add(r);
                busy += r.busySeconds();
                if (s == null) continue;
                for (StageRecord.AllReduce a : s.allReduces()) {
                    allReduces.add(new AllReduce(a.stage(), replica, a.bytes(), a.startSeconds(), a.endSeconds()));
                }
                for (StageRecord.OutOfMemory o : s.outOfMemory()) {
                    outOfMemory.add(new OutOfMemory(ended.step(), replica, rank, o.atSeconds(), o.bytes(), o.capacityBytes()));
                }
                for (Map.Entry<Integer, Double> e : s.stallSecondsByRank().entrySet()) {
                    stalls.put(new LinkKey(replica, rank, e.getKey()), e.getValue());
                }
            }
        }
        allReduces.sort(Comparator.comparingInt(AllReduce::stage).thenComparingInt(AllReduce::replica)
                .thenComparingDouble(AllReduce::startSeconds).thenComparingDouble(AllReduce::endSeconds));
        outOfMemory.sort(Comparator.comparingInt(OutOfMemory::replica).thenComparingInt(OutOfMemory::rank)
                .thenComparingDouble(OutOfMemory::atSeconds).thenComparingLong(OutOfMemory::bytes));

        // a link is listed when it carried a message or its sender waited for its credit
        TreeMap<LinkKey, LinkStats> links = new TreeMap<>();
        for (LinkRecord l : ended.links()) {
            if (l.messages() == 0) continue;
            LinkKey k = new LinkKey(l.replica(), l.fromRank(), l.toRank());
            double stall = stalls.getOrDefault(k, 0.0);
            links.put(k, new LinkStats(l.replica(), l.fromRank(), l.toRank(), l.bytes(), l.busySeconds(), l.messages(),
                    stall, l.maxQueueDepth()));
        }
        stalls.forEach((k, stall) -> links.putIfAbsent(k, new LinkStats(k.replica(), k.fromRank(), k.toRank(), 0, 0.0,
                0, stall, 0)));

        int m = started.map(Event.StepStarted::microBatches).orElse(info.microBatches());
        long samples = (long) info.microBatchSize() * m * d;
        double flopRate = stepSeconds * info.devices() * info.peakFlopsPerDevice();
        // as the evaluator's Timeline.bubbleFraction: one division, so a rational result is correctly rounded
        double total = (p * d) * stepSeconds;
        StepStats stats = new StepStats(ended.step(), stepSeconds, ended.runSeconds(), ended.committedOffset(),
                rate(samples, stepSeconds), rate((double) samples * info.seqLength(), stepSeconds),
                flopRate > 0 ? info.modelFlopsPerStep() / flopRate : 0,
                flopRate > 0 ? info.hardwareFlopsPerStep() / flopRate : 0, busy, total > 0 ? (total - busy) / total : 0);
        double start = started.map(Event.StepStarted::runSeconds).orElse(ended.runSeconds() - stepSeconds);
        return new StepSummary(stats, start, m, ranks, List.copyOf(links.values()), allReduces, outOfMemory, ended);
    }

    /** All-reduce seconds of the step per model stage, each a chain of additions in {@code allReduces} order. */
    public SortedMap<Integer, Double> allReduceSecondsByStage() {
        TreeMap<Integer, Double> out = new TreeMap<>();
        for (AllReduce a : allReduces) out.merge(a.stage(), a.seconds(), Double::sum);
        return out;
    }

    private static RankStats rankStats(StageRecord s, double stepSeconds) {
        double busy = s.busySeconds();
        return new RankStats(s.replica(), s.rank(), s.busySecondsByPhase(), busy, stepSeconds,
                stepSeconds > 0 ? busy / stepSeconds : 0, stepSeconds - busy, s.liveMemoryBytes(), s.peakMemoryBytes(),
                s.peakInFlight());
    }

    private static RankStats idle(RunInfo info, int replica, int rank, double stepSeconds) {
        long staticBytes = info.staticBytesPerRank().get(rank);
        return new RankStats(replica, rank, Map.of(), 0.0, stepSeconds, 0, stepSeconds, staticBytes, staticBytes, 0);
    }

    private static long key(int replica, int rank) {
        return ((long) replica << 32) | (rank & 0xffffffffL);
    }

    private static double rate(double amount, double seconds) {
        return seconds > 0 ? amount / seconds : 0;
    }
}
