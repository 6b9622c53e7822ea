package dev.pipelab.monitoring;

import org.junit.jupiter.api.Test;

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
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RunAggregateTest {

    private static Event.ActionSpan span(int rank, Phase phase, int mb, double start, double end) {
        return new Event.ActionSpan(0, 0, rank, rank, phase, mb, start, end);
    }

    @Test
    void busySecondsByPhaseIdleAndFractionPerRank() {
        RunAggregate a = RunAggregate.of(TinyGPipe.info(), TinyGPipe.events(1));
        RankStats r0 = a.rank(0, 0, 0);
        assertThat(r0.busySeconds(Phase.F)).isEqualTo(2.0);
        assertThat(r0.busySeconds(Phase.B)).isEqualTo(4.0);
        assertThat(r0.busySeconds(Phase.W)).isEqualTo(0.0);
        assertThat(r0.busySeconds(Phase.R)).isEqualTo(0.0);
        assertThat(r0.busySeconds(Phase.OPT)).isEqualTo(0.5);
        assertThat(r0.busySeconds()).isEqualTo(6.5);
        assertThat(r0.busyFraction()).isEqualTo(0.65);
        assertThat(r0.idleSeconds()).isEqualTo(3.5);
        assertThat(a.ranks(0)).extracting(RankStats::rank).containsExactly(0, 1);
    }

    @Test
    void bubbleIsIdleStageTimeOverStageTimeAsOneDivision() {
        StepStats s = RunAggregate.of(TinyGPipe.info(), TinyGPipe.events(1)).step(0).orElseThrow();
        assertThat(s.stepSeconds()).isEqualTo(10.0);
        assertThat(s.busySeconds()).isEqualTo(13.0);
        assertThat(s.bubbleFraction()).isEqualTo(0.35);
    }

    @Test
    void bubbleOfOneThirdComesOutCorrectlyRounded() {
        // p=3 ranks, step 3 s, busy 2 s each: (9 - 6) / 9 = 1/3 exactly rounded
        RunInfo info = new RunInfo("third", "gpipe", 3, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, List.of(1, 1, 1), List.of(0L, 0L, 0L));
        List<Object> events = new ArrayList<>();
        for (int r = 0; r < 3; r++) events.add(span(r, Phase.F, 0, r * 0.5, r * 0.5 + 2));
        events.add(new Event.StepEnded(0, 3.0, 3.0, 1));
        assertThat(RunAggregate.of(info, Events.batched(events)).step(0).orElseThrow().bubbleFraction()).isEqualTo(1.0 / 3);
    }

    @Test
    void throughputAndUtilizationOfAStep() {
        StepStats s = RunAggregate.of(TinyGPipe.info(), TinyGPipe.events(1)).step(0).orElseThrow();
        assertThat(s.samplesPerSecond()).isEqualTo(TinyGPipe.B * 2 / 10.0);
        assertThat(s.tokensPerSecond()).isEqualTo(TinyGPipe.B * 2 * 8 / 10.0);
        assertThat(s.mfu()).isEqualTo(0.5);   // 1e12 / (10 s · 2 devices · 1e11)
        assertThat(s.hfu()).isEqualTo(0.75);
        assertThat(s.runSeconds()).isEqualTo(10.0);
        assertThat(s.committedOffset()).isEqualTo(TinyGPipe.B * 2L);
    }

    @Test
    void numbersDoNotDependOnArrivalOrder() {
        RunAggregate inOrder = RunAggregate.of(TinyGPipe.info(), TinyGPipe.events(2));
        for (long seed = 1; seed <= 5; seed++) {
            RunAggregate shuffled = RunAggregate.of(TinyGPipe.info(), TinyGPipe.shuffled(2, seed));
            assertThat(shuffled.stepStats()).isEqualTo(inOrder.stepStats());
            assertThat(shuffled.ranks(1)).isEqualTo(inOrder.ranks(1));
            assertThat(shuffled.linksOverRun()).isEqualTo(inOrder.linksOverRun());
            assertThat(shuffled.ranksOverRun()).isEqualTo(inOrder.ranksOverRun());
        }
    }

    @Test
    void busySumsTheOptimizerFirstThenSpansInStartOrderLikeTheEvaluator() {
        // the evaluator adds the optimizer's seconds, then each action's in the rank's order; doubles do not
        // associate, so summing in start order (F, B, OPT) would differ in the last bit here
        RunInfo info = new RunInfo("order", "gpipe", 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, List.of(1), List.of(0L));
        Event.ActionSpan f = span(0, Phase.F, 0, 0.0, 0.1);
        Event.ActionSpan b = span(0, Phase.B, 0, 0.1, 0.2);
        Event.ActionSpan opt = span(0, Phase.OPT, -1, 0.2, 1.1);
        double evaluatorOrder = opt.seconds();
        evaluatorOrder += f.seconds();
        evaluatorOrder += b.seconds();
        double startOrder = f.seconds();
        startOrder += b.seconds();
        startOrder += opt.seconds();
        assertThat(startOrder).isNotEqualTo(evaluatorOrder);
        List<Object> events = List.of(b, opt, f, new Event.StepEnded(0, 1.1, 1.1, 1));
        assertThat(RunAggregate.of(info, Events.batched(events)).rank(0, 0, 0).busySeconds()).isEqualTo(evaluatorOrder);
    }

    @Test
    void peakAndLiveMemoryFromMemoryChangedAndStaticBytesWhenNone() {
        RunAggregate a = RunAggregate.of(TinyGPipe.info(), TinyGPipe.shuffled(1, 7));
        assertThat(a.rank(0, 0, 0).peakMemoryBytes()).isEqualTo(160);
        assertThat(a.rank(0, 0, 0).liveMemoryBytes()).isEqualTo(60);
        assertThat(a.rank(0, 0, 1).peakMemoryBytes()).isEqualTo(140);
        assertThat(a.rank(0, 0, 1).liveMemoryBytes()).isEqualTo(40);
        RunAggregate empty = new RunAggregate(TinyGPipe.info());
        assertThat(empty.rank(0, 0, 1).peakMemoryBytes()).isEqualTo(40);
        assertThat(empty.ranksOverRun().get(0).peakMemoryBytes()).isEqualTo(60);
    }

    @Test
    void inFlightOfGPipeIsAllMicroBatches() {
        RunAggregate a = RunAggregate.of(TinyGPipe.info(), TinyGPipe.events(1));
        assertThat(a.rank(0, 0, 0).peakInFlight()).isEqualTo(2);
        assertThat(a.rank(0, 0, 1).peakInFlight()).isEqualTo(2);
    }

    @Test
    void aSplitBackwardHoldsItsMicroBatchUntilW() {
        // F0 F1 B0 F2 W0 B1 W1 B2 W2: with W closing, 3 are in flight after F2; closing at B would give 2
        List<Event.ActionSpan> split = List.of(span(0, Phase.F, 0, 0, 1), span(0, Phase.F, 1, 1, 2),
                span(0, Phase.B, 0, 2, 3), span(0, Phase.F, 2, 3, 4), span(0, Phase.W, 0, 4, 5),
                span(0, Phase.B, 1, 5, 6), span(0, Phase.W, 1, 6, 7), span(0, Phase.B, 2, 7, 8), span(0, Phase.W, 2, 8, 9));
        assertThat(RunAggregate.peakInFlight(split)).isEqualTo(3);
        List<Event.ActionSpan> fused = split.stream().filter(s -> s.phase() != Phase.W).toList();
        assertThat(RunAggregate.peakInFlight(fused)).isEqualTo(2);
    }

    @Test
    void inFlightCountsStagesOfAnInterleavedRankApart() {
        // rank 0 holds stages 0 and 2: micro-batch 0 of each is a different pair
        List<Event.ActionSpan> spans = List.of(
                new Event.ActionSpan(0, 0, 0, 0, Phase.F, 0, 0, 1), new Event.ActionSpan(0, 0, 0, 2, Phase.F, 0, 1, 2),
                new Event.ActionSpan(0, 0, 0, 2, Phase.B, 0, 2, 3), new Event.ActionSpan(0, 0, 0, 0, Phase.B, 0, 3, 4));
        assertThat(RunAggregate.peakInFlight(spans)).isEqualTo(2);
    }

    @Test
    void linkBytesBusyAndTransfers() {
        List<LinkStats> links = RunAggregate.of(TinyGPipe.info(), TinyGPipe.events(2)).linksOverRun();
        assertThat(links).containsExactly(
                new LinkStats(0, 0, 1, 4000, 1.0, 4, 0.0, 0),
                new LinkStats(0, 1, 0, 4000, 1.0, 4, 0.0, 0));
    }

    @Test
    void creditStallsAndQueueDepth() {
        RunInfo info = TinyGPipe.info();
        // waiting intervals [0,2), [2,3), [2,3): the first leaves as the other two become ready, so the depth is 2
        List<Object> events = List.of(
                new Event.TransferSpan(0, 0, 0, 1, "activation", 0, 0, 10, 0, 2, 2.5),
                new Event.TransferSpan(0, 0, 0, 1, "activation", 0, 1, 10, 2, 3, 3.5),
                new Event.TransferSpan(0, 0, 0, 1, "activation", 0, 2, 10, 2, 3.5, 4),
                new Event.TransferSpan(0, 0, 0, 1, "activation", 0, 3, 10, 4, 4, 4.5),
                new Event.CreditStall(0, 0, 0, 1, 2, 2.5), new Event.CreditStall(0, 0, 0, 1, 3, 3.25),
                new Event.CreditStall(0, 0, 1, 0, 1, 1.5));
        List<LinkStats> links = RunAggregate.of(info, Events.batched(events)).links(0);
        assertThat(links).containsExactly(
                new LinkStats(0, 0, 1, 40, 2.0, 4, 0.75, 2),
                new LinkStats(0, 1, 0, 0, 0.0, 0, 0.5, 0));
    }

    @Test
    void linkAndStallSumsDoNotDependOnArrivalOrder() {
        // busy 0.1 + 0.1 + 1.1 is 1.3 one way round and 1.3000000000000003 the other
        Event.TransferSpan a = new Event.TransferSpan(0, 0, 0, 1, "activation", 0, 0, 1, 0, 0, 0.1);
        Event.TransferSpan b = new Event.TransferSpan(0, 0, 0, 1, "activation", 0, 1, 1, 0, 0, 0.1);
        Event.TransferSpan c = new Event.TransferSpan(0, 0, 0, 1, "activation", 0, 2, 1, 0, 0, 1.1);
        Event.CreditStall s1 = new Event.CreditStall(0, 0, 0, 1, 0, 0.1);
        Event.CreditStall s2 = new Event.CreditStall(0, 0, 0, 1, 0, 0.1);
        Event.CreditStall s3 = new Event.CreditStall(0, 0, 0, 1, 0, 1.1);
        double forward = 0.1;
        forward += 0.1;
        forward += 1.1;
        double backward = 1.1;
        backward += 0.1;
        backward += 0.1;
        assertThat(forward).isNotEqualTo(backward);
        LinkStats inOrder = RunAggregate.of(TinyGPipe.info(), Events.batched(List.of(a, b, c, s1, s2, s3))).links(0).get(0);
        LinkStats reversed = RunAggregate.of(TinyGPipe.info(), Events.batched(List.of(s3, s2, s1, c, b, a))).links(0).get(0);
        assertThat(reversed).isEqualTo(inOrder);
        assertThat(inOrder.busySeconds()).isEqualTo(forward);
        assertThat(inOrder.stallSeconds()).isEqualTo(forward);
    }

    @Test
    void allReduceSecondsAndBytesPerStage() {
        List<Object> events = List.of(new Event.AllReduceSpan(0, 0, 1, 1, 100, 8, 9.5),
                new Event.AllReduceSpan(0, 1, 1, 1, 100, 8, 9), new Event.AllReduceSpan(0, 0, 0, 0, 50, 9, 9.25));
        RunAggregate a = RunAggregate.of(TinyGPipe.info(), Events.batched(events));
        assertThat(a.allReduceSecondsByStage()).containsExactly(
                org.assertj.core.api.Assertions.entry(0, 0.25), org.assertj.core.api.Assertions.entry(1, 2.5));
        assertThat(a.allReduceBytesByStage()).containsEntry(1, 200L).containsEntry(0, 50L);
    }

    @Test
    void totalsOverCompletedStepsOnly() {
        List<Object> events = new ArrayList<>(TinyGPipe.events(2));
        events.add(new Event.StepStarted(2, 20, TinyGPipe.B * 4L, 2));
        events.add(TinyGPipe.span(2, 0, Phase.F, 0, 0, 1));
        events.add(new Event.OutOfMemory(2, 0, 0, 0.5, 2_000_000_000L, 1_000_000_000L));
        RunAggregate a = RunAggregate.of(TinyGPipe.info(), Events.batched(events));
        RunTotals t = a.totals();
        assertThat(t).isEqualTo(new RunTotals(2, 20.0, 10.0, 10.0, TinyGPipe.B * 4L, TinyGPipe.B * 4L * 8, 26.0, 8000, 0.0, 1));
        assertThat(a.completedSteps()).containsExactly(0, 1);
        assertThat(a.seenSteps()).containsExactly(0, 1, 2);
        assertThat(a.step(2)).isEmpty();
        // a running step measures against the latest span end so far
        assertThat(a.rank(2, 0, 0).stepSeconds()).isEqualTo(1.0);
        assertThat(a.rank(2, 0, 0).busyFraction()).isEqualTo(1.0);
        assertThat(a.outOfMemory()).hasSize(1);
    }

    @Test
    void runLevelRankNumbersOfIdenticalStepsEqualOneStepExactly() {
        RunAggregate one = RunAggregate.of(TinyGPipe.info(), TinyGPipe.events(1));
        RunAggregate three = RunAggregate.of(TinyGPipe.info(), TinyGPipe.events(3));
        assertThat(three.ranksOverRun()).isEqualTo(one.ranksOverRun());
        assertThat(one.ranksOverRun().get(0).busyFraction()).isEqualTo(0.65);
    }

    @Test
    void meanOfEqualValuesIsThatValue() {
        double[] tenths = {0.1, 0.1, 0.1};
        assertThat((0.1 + 0.1 + 0.1) / 3).isNotEqualTo(0.1);   // why Mean exists
        assertThat(Mean.of(tenths)).isEqualTo(0.1);
        assertThat(Mean.of(new double[] {1, 2})).isEqualTo(1.5);
        assertThat(Mean.of(new double[0])).isEqualTo(0.0);
    }

    @Test
    void runInfoSaysWhatWasExpected() {
        assertThatThrownBy(() -> new RunInfo("x", "gpipe", 2, 2, 1, 1, 1, 1, 1, 4 - 1, 0, 0, 1, 1, List.of(1, 1),
                List.of(0L, 0L), "virtual", 1, java.util.Optional.empty()))
                .hasMessage("devices must be pipeline·data·tensor = 2·2·1 = 4, got 3");
        assertThatThrownBy(() -> new RunInfo("x", "gpipe", 2, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, List.of(1), List.of(0L, 0L)))
                .hasMessage("layersPerRank must have one entry per rank (2), got 1");
        assertThatThrownBy(() -> TinyGPipe.info().with("fast", 1, java.util.Optional.empty()))
                .hasMessage("clock must be virtual or wall, got fast");
        assertThatThrownBy(() -> new RunInfo("x", "gpipe", 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, List.of(1), List.of(0L)))
                .hasMessageStartingWith("hardwareFlopsPerStep must be finite and >= modelFlopsPerStep");
    }

    @Test
    void shuffledEventsAlsoGiveTheSameSpansToTheGantt() {
        List<Object> events = new ArrayList<>(TinyGPipe.events(1));
        Collections.shuffle(events, new Random(3));
        assertThat(TextGantt.render(Events.batched(events), 0, 20)).isEqualTo(TextGantt.render(TinyGPipe.events(1), 0, 20));
    }

    // ---------------------------------------------------------------- batches in slices, late batches, folded steps
    //
    // These tests hold RunAggregate to the answers of the implementation of commit cce0a3c (Previous, below, verbatim
    // but for its name), which keeps one object per span and sorts them at every query, and to the invariant that
    // arrival order does not matter, so that its internals can be replaced without changing a bit.

    /** Three ranks, two replicas, interleaved stages; static bytes differ per rank. */
    private static final RunInfo MIXED = new RunInfo("mixed", "zb-v", 3, 2, 1, 2, 4, 4, 8, 1e12, 1.5e12, 1e11,
            1_000_000_000L, List.of(2, 2, 2), List.of(70L, 50L, 30L));

    /**
     * Spans and events of {@code steps} steps in the order they happen, with the awkward cases: durations that are
     * not {@code end - start}, sums whose rounding depends on their order, duplicate spans, ties on every sorted
     * field, -0.0, a replica outside the run, a credit stall on a link that carried nothing, a step without
     * {@code StepStarted} and a last step that does not end. With {@code orderFree}, spans that tie on every field
     * the aggregate sorts by are equal in every field and no two memory changes of a rank share a time, so that
     * any arrival order must give the same bits; without it, arrival order breaks those ties (as it always did).
     */
    private static List<Object> randomRun(long seed, int steps, boolean orderFree) {
        Random rnd = new Random(seed);
        double[] times = {-0.0, 0.0, 0.1, 0.2, 0.3, 0.7, 1.1, 1.3, 2.2, 2.5, 3.3};
        Phase[] phases = Phase.values();
        List<Object> out = new ArrayList<>();
        for (int k = 0; k < steps; k++) {
            if (k != 1) out.add(new Event.StepStarted(k, 10.0 * k, 32L * k, 3 + k % 2));
            double stepSeconds = 0;
            for (int replica = 0; replica <= MIXED.data(); replica++) {           // replica 2 is outside the run
                for (int rank = 0; rank < MIXED.pipeline(); rank++) {
                    if (replica == MIXED.data() && rank > 0) continue;
                    int actions = rnd.nextInt(12);
                    for (int i = 0; i < actions; i++) {
                        double start = times[rnd.nextInt(times.length)];
                        double end = start + times[2 + rnd.nextInt(times.length - 2)];
                        Phase phase = phases[rnd.nextInt(phases.length)];
                        int stage = phase == Phase.OPT ? -1 : rank + MIXED.pipeline() * rnd.nextInt(2);
                        int mb = phase == Phase.OPT ? -1 : rnd.nextInt(3);
                        double duration = orderFree ? end - start : end - start + rnd.nextInt(3) * 0.013;
                        Event.ActionSpan s = new Event.ActionSpan(k, replica, rank, stage, phase, mb, start, end, duration);
                        out.add(s);
                        // a duplicate, or a span tied with it on every sorted field but its duration
                        if (rnd.nextInt(4) == 0) {
                            out.add(orderFree ? s : new Event.ActionSpan(k, replica, rank, stage, phase, mb, start, end,
                                    duration + 0.029));
                        }
                        stepSeconds = Math.max(stepSeconds, end);
                    }
                    int changes = rnd.nextInt(5);
                    for (int i = 0; i < changes; i++) {
                        double at = orderFree ? i * 0.3 + rnd.nextInt(2) * 0.1 : times[rnd.nextInt(times.length)];
                        out.add(new Event.MemoryChanged(k, replica, rank, at, 40 + rnd.nextInt(200)));
                    }
                    for (int i = rnd.nextInt(4); i > 0; i--) {
                        double start = times[rnd.nextInt(times.length)];
                        out.add(new Event.CreditStall(k, replica, rank, rnd.nextInt(MIXED.pipeline() + 1), start,
                                start + times[2 + rnd.nextInt(4)]));
                    }
                    for (int i = rnd.nextInt(3); i > 0; i--) {
                        double start = times[rnd.nextInt(times.length)];
                        out.add(new Event.AllReduceSpan(k, replica, rank, rank + MIXED.pipeline() * rnd.nextInt(2),
                                100 + rnd.nextInt(5), start, start + times[2 + rnd.nextInt(5)]));
                    }
                }
                for (int from = 0; from < MIXED.pipeline(); from++) {
                    for (int to : new int[] {from - 1, from + 1, from}) {
                        if (to < 0 || to >= MIXED.pipeline() || rnd.nextInt(3) == 0) continue;
                        for (int i = rnd.nextInt(6); i > 0; i--) {
                            double ready = times[rnd.nextInt(times.length)];
                            double start = ready + times[rnd.nextInt(5)];
                            String kind = LinkActivity.KINDS.get(rnd.nextInt(3));
                            out.add(new Event.TransferSpan(k, replica, from, to, kind, rnd.nextInt(4), rnd.nextInt(3),
                                    1000 + rnd.nextInt(3), ready, start, start + times[2 + rnd.nextInt(4)]));
                        }
                    }
                }
            }
            if (rnd.nextInt(3) == 0) out.add(new Event.OutOfMemory(k, 0, rnd.nextInt(3), 0.5, 2_000L, 1_000L));
            if (k < steps - 1) {
                out.add(new Event.StepEnded(k, stepSeconds, 10.0 * (k + 1), 32L * (k + 1)));
                if (rnd.nextBoolean()) out.add(new Event.StepLoss(k, 1.0 / (k + 3)));
            }
        }
        return out;
    }

    /** {@code run} as a producer would batch it: each (step, replica, rank) and each link's step in one batch. */
    private static List<Event> whole(List<Object> run) {
        List<Object> spans = new ArrayList<>();
        List<Object> rest = new ArrayList<>();
        for (Object o : run) (o instanceof Event.Detail ? spans : rest).add(o);
        // a stable sort by key keeps each key's spans in recorded order and makes them consecutive
        spans.sort(Comparator.comparing(RunAggregateTest::batchKey));
        List<Object> stream = new ArrayList<>(spans);
        stream.addAll(rest);
        return Events.batched(stream);
    }

    private static String batchKey(Object span) {
        if (span instanceof Event.TransferSpan t) return "L" + t.step() + "/" + t.replica() + "/" + t.fromRank() + "/" + t.toRank();
        if (span instanceof Event.ActionSpan a) return "R" + a.step() + "/" + a.replica() + "/" + a.rank();
        if (span instanceof Event.MemoryChanged m) return "R" + m.step() + "/" + m.replica() + "/" + m.rank();
        if (span instanceof Event.CreditStall c) return "R" + c.step() + "/" + c.replica() + "/" + c.fromRank();
        Event.AllReduceSpan a = (Event.AllReduceSpan) span;
        return "R" + a.step() + "/" + a.replica() + "/" + a.rank();
    }

    /**
     * {@code run} shuffled span by span and batched ({@code Events.batched} groups only neighbours, so most keys
     * come in several slices), then the batches shuffled again: slices of a step arrive before and after its
     * {@code StepEnded}, and even after later steps ended.
     */
    private static List<Event> sliced(List<Object> run, long seed) {
        List<Object> stream = new ArrayList<>(run);
        Collections.shuffle(stream, new Random(seed));
        List<Event> batches = new ArrayList<>(Events.batched(stream));
        Collections.shuffle(batches, new Random(seed + 1));
        return batches;
    }

    /** What {@link RunAggregate} answers, so that {@link Previous} can be asked the same. */
    private interface Aggregate {
        void accept(Event e);
        List<Integer> completedSteps();
        List<Integer> seenSteps();
        Optional<StepStats> step(int step);
        List<StepStats> stepStats();
        RankStats rank(int step, int replica, int rank);
        List<RankStats> ranks(int step);
        List<RankStats> ranksOverRun();
        List<LinkStats> links(int step);
        List<LinkStats> linksOverRun();
        SortedMap<Integer, Double> allReduceSecondsByStage();
        SortedMap<Integer, Long> allReduceBytesByStage();
        List<Double> losses();
        List<Event.OutOfMemory> outOfMemory();
        Optional<Event.StepEnded> lastEnded();
        RunTotals totals();
    }

    private static Aggregate current(RunAggregate a) {
        return new Aggregate() {
            public void accept(Event e) { a.accept(e); }
            public List<Integer> completedSteps() { return a.completedSteps(); }
            public List<Integer> seenSteps() { return a.seenSteps(); }
            public Optional<StepStats> step(int step) { return a.step(step); }
            public List<StepStats> stepStats() { return a.stepStats(); }
            public RankStats rank(int step, int replica, int rank) { return a.rank(step, replica, rank); }
            public List<RankStats> ranks(int step) { return a.ranks(step); }
            public List<RankStats> ranksOverRun() { return a.ranksOverRun(); }
            public List<LinkStats> links(int step) { return a.links(step); }
            public List<LinkStats> linksOverRun() { return a.linksOverRun(); }
            public SortedMap<Integer, Double> allReduceSecondsByStage() { return a.allReduceSecondsByStage(); }
            public SortedMap<Integer, Long> allReduceBytesByStage() { return a.allReduceBytesByStage(); }
            public List<Double> losses() { return a.losses(); }
            public List<Event.OutOfMemory> outOfMemory() { return a.outOfMemory(); }
            public Optional<Event.StepEnded> lastEnded() { return a.lastEnded(); }
            public RunTotals totals() { return a.totals(); }
        };
    }

    /**
     * Every answer, as values that compare bit for bit: records compare doubles with {@code Double.compare} and maps
     * with {@code Double.equals}, so 0.1 + 0.2 + 0.3 and 0.1 + (0.2 + 0.3) differ here. Includes a step never seen
     * and a replica outside the run.
     */
    private static List<Object> answers(Aggregate a) {
        List<Object> out = new ArrayList<>(List.of(a.completedSteps(), a.seenSteps(), a.stepStats(), a.ranksOverRun(),
                a.linksOverRun(), a.allReduceSecondsByStage(), a.allReduceBytesByStage(), a.losses(), a.outOfMemory(),
                a.lastEnded(), a.totals()));
        List<Integer> steps = new ArrayList<>(a.seenSteps());
        steps.add(99);
        for (int k : steps) {
            out.add(List.of(k, a.step(k), a.ranks(k), a.links(k), a.rank(k, MIXED.data(), 0)));
        }
        return out;
    }

    private static List<Object> answers(RunAggregate a) {
        return answers(current(a));
    }

    private static List<Object> previousAnswers(List<Event> stream) {
        return answers(Previous.of(MIXED, stream));
    }

    @Test
    void slicesOfAStepInAnyOrderGiveTheBitsOfOneBatchPerStep() {
        for (long seed = 1; seed <= 20; seed++) {
            List<Object> run = randomRun(seed, 4, true);
            List<Event> whole = whole(run);
            List<Object> expected = answers(RunAggregate.of(MIXED, whole));
            assertThat(expected).isEqualTo(previousAnswers(whole));
            for (long order = 1; order <= 3; order++) {
                List<Event> sliced = sliced(run, seed * 100 + order);
                assertThat(sliced.size()).isGreaterThan(2 * whole.size());
                assertThat(answers(RunAggregate.of(MIXED, sliced))).as("seed %d order %d", seed, order).isEqualTo(expected);
            }
        }
    }

    @Test
    void answersEqualThoseOfThePreviousImplementationForEveryArrivalOrder() {
        // here arrival order breaks some ties, for both implementations alike: each stream is compared with itself
        for (long seed = 1; seed <= 20; seed++) {
            List<Object> run = randomRun(seed, 4, false);
            for (List<Event> stream : List.of(whole(run), Events.batched(run), sliced(run, seed))) {
                assertThat(answers(RunAggregate.of(MIXED, stream))).as("seed %d", seed).isEqualTo(previousAnswers(stream));
            }
        }
    }

    @Test
    void aFoldedStepAnswersAsTheUnfoldedSpansDidAtEveryPointOfTheStream() {
        // asking mid-stream folds the running steps early; each later batch is folded into those columns, and every
        // answer on the way must be the one the previous implementation gave from its lists of spans
        for (long seed = 1; seed <= 10; seed++) {
            List<Event> stream = sliced(randomRun(seed, 3, false), seed);
            RunAggregate folded = new RunAggregate(MIXED);
            Previous spans = new Previous(MIXED);
            Random when = new Random(seed);
            for (Event e : stream) {
                folded.accept(e);
                spans.accept(e);
                if (when.nextInt(25) == 0) assertThat(answers(folded)).isEqualTo(answers(spans));
            }
            assertThat(answers(folded)).isEqualTo(answers(spans));
        }
    }

    @Test
    void aBatchAfterItsStepEndedIsCountedAsIfItHadComeBefore() {
        List<Event> inOrder = TinyGPipe.events(3);
        // step 1's rank 0 backward arrives after its StepEnded, and after step 2 ended as well
        Event late = inOrder.stream().filter(e -> e instanceof RankActivity r && r.step() == 1 && r.rank() == 0
                && r.actions() == 2 && r.phase(0) == Phase.B).findFirst().orElseThrow();
        List<Event> lateStream = new ArrayList<>(inOrder);
        lateStream.remove(late);
        RunAggregate without = RunAggregate.of(TinyGPipe.info(), lateStream);
        lateStream.add(late);
        RunAggregate expected = RunAggregate.of(TinyGPipe.info(), inOrder);
        RunAggregate lateAggregate = RunAggregate.of(TinyGPipe.info(), lateStream);
        assertThat(without.rank(1, 0, 0).busySeconds()).isEqualTo(2.5);
        assertThat(lateAggregate.rank(1, 0, 0).busySeconds()).isEqualTo(6.5);
        assertThat(lateAggregate.rank(1, 0, 0)).isEqualTo(expected.rank(1, 0, 0));
        assertThat(lateAggregate.stepStats()).isEqualTo(expected.stepStats());
        assertThat(lateAggregate.ranksOverRun()).isEqualTo(expected.ranksOverRun());
        assertThat(lateAggregate.totals()).isEqualTo(expected.totals());

        // every batch of every step late: each StepEnded first
        for (long seed = 1; seed <= 10; seed++) {
            List<Object> run = randomRun(seed, 4, true);
            List<Object> endsFirst = new ArrayList<>();
            run.stream().filter(o -> o instanceof Event.StepEnded).forEach(endsFirst::add);
            run.stream().filter(o -> !(o instanceof Event.StepEnded)).forEach(endsFirst::add);
            assertThat(answers(RunAggregate.of(MIXED, Events.batched(endsFirst))))
                    .isEqualTo(answers(RunAggregate.of(MIXED, whole(run))));
        }
    }

    @Test
    void aLateSpanThatSortsFirstIsSummedInItsPlaceNotAddedAtTheEnd() {
        // 0.1 + 0.1 + 1.1 is 1.3, 0.1 + 1.1 + 0.1 is 1.3000000000000003: the late span starts first, so the folded
        // sum cannot just be added to; the step is summed again in span order
        RunInfo info = new RunInfo("late", "gpipe", 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, List.of(1), List.of(0L));
        Event.ActionSpan first = new Event.ActionSpan(0, 0, 0, 0, Phase.F, 0, 0.0, 0.1, 0.1);
        Event.ActionSpan second = new Event.ActionSpan(0, 0, 0, 0, Phase.F, 1, 0.1, 0.2, 0.1);
        Event.ActionSpan third = new Event.ActionSpan(0, 0, 0, 0, Phase.B, 0, 0.2, 1.3, 1.1);
        double startOrder = 0.0;
        startOrder += 0.1;
        startOrder += 0.1;
        startOrder += 1.1;
        double lateLast = 0.0;
        lateLast += 0.1;
        lateLast += 1.1;
        lateLast += 0.1;
        assertThat(lateLast).isNotEqualTo(startOrder);
        Event.StepEnded end = new Event.StepEnded(0, 1.3, 1.3, 1);
        RunAggregate a = RunAggregate.of(info, Events.batched(List.of(second, third, end, first)));
        assertThat(a.rank(0, 0, 0).busySeconds()).isEqualTo(startOrder);
        assertThat(a.rank(0, 0, 0).busySeconds(Phase.F)).isEqualTo(0.1 + 0.1);
        assertThat(a.step(0).orElseThrow().busySeconds()).isEqualTo(startOrder);
        assertThat(answers(current(a))).isEqualTo(answers(Previous.of(info, Events.batched(List.of(first, second, third, end)))));
    }

    @Test
    void identicalStepsShareTheirColumnsAndStillAnswerPerStep() {
        RunAggregate one = RunAggregate.of(TinyGPipe.info(), TinyGPipe.events(1));
        RunAggregate ten = RunAggregate.of(TinyGPipe.info(), TinyGPipe.events(10));
        // 10 actions, 4 transfers per step: ten repeating steps keep one step's spans
        assertThat(one.retainedSpans()).isEqualTo(14);
        assertThat(ten.retainedSpans()).isEqualTo(14);
        assertThat(ten.ranksOverRun()).isEqualTo(one.ranksOverRun());
        for (int k = 0; k < 10; k++) assertThat(ten.ranks(k)).isEqualTo(one.ranks(0));

        // a late batch of step 4 re-folds step 4 alone: it stops sharing, the others still do
        List<Event> events = new ArrayList<>(TinyGPipe.events(10));
        events.add(Events.batched(List.of(TinyGPipe.span(4, 1, Phase.F, 2, 8, 9))).get(0));
        RunAggregate late = RunAggregate.of(TinyGPipe.info(), events);
        assertThat(late.retainedSpans()).isEqualTo(14 + 6);
        assertThat(late.rank(4, 0, 1).busySeconds()).isEqualTo(7.5);
        assertThat(late.rank(3, 0, 1).busySeconds()).isEqualTo(6.5);
        assertThat(late.rank(5, 0, 1)).isEqualTo(one.rank(0, 0, 1));
    }

    @Test
    void aStepAskedAboutWhileItRunsEndsWithTheSameNumbers() {
        for (long seed = 1; seed <= 5; seed++) {
            List<Event> stream = TinyGPipe.shuffled(2, seed);
            RunAggregate asked = new RunAggregate(TinyGPipe.info());
            Previous spans = new Previous(TinyGPipe.info());
            for (Event e : stream) {
                asked.accept(e);
                spans.accept(e);
                assertThat(asked.ranks(1)).isEqualTo(spans.ranks(1));
                assertThat(asked.links(0)).isEqualTo(spans.links(0));
            }
            assertThat(answers(current(asked))).isEqualTo(answers(RunAggregate.of(TinyGPipe.info(), stream)));
        }
    }

    /**
     * RunAggregate as of commit cce0a3c, unchanged but for its name and comments: one object per span, kept in lists
     * and sorted at every query. The reference for the answers above.
     */
    static final class Previous implements Aggregate {

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

        Previous(RunInfo info) {
            this.info = Objects.requireNonNull(info, "info");
        }

        static Previous of(RunInfo info, Collection<? extends Event> events) {
            Previous aggregate = new Previous(info);
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

        public synchronized List<Integer> completedSteps() {
            List<Integer> out = new ArrayList<>();
            steps.forEach((k, d) -> { if (d.ended != null) out.add(k); });
            return out;
        }

        public synchronized List<Integer> seenSteps() {
            return List.copyOf(steps.keySet());
        }

        public synchronized Optional<StepStats> step(int step) {
            StepData d = steps.get(step);
            if (d == null || d.ended == null) return Optional.empty();
            return Optional.of(stepStats(step, d));
        }

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

        public synchronized RankStats rank(int step, int replica, int rank) {
            StepData d = steps.get(step);
            if (d == null) d = new StepData();
            return rankStats(d, replica, rank);
        }

        public synchronized List<RankStats> ranks(int step) {
            List<RankStats> out = new ArrayList<>();
            for (int replica = 0; replica < info.data(); replica++) {
                for (int rank = 0; rank < info.pipeline(); rank++) out.add(rank(step, replica, rank));
            }
            return out;
        }

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

        private static List<Event.ActionSpan> spans(StepData d, int replica, int rank) {
            List<Event.ActionSpan> spans = new ArrayList<>(d.spans.getOrDefault(new RankKey(replica, rank), List.of()));
            spans.sort(SPAN_ORDER);
            return spans;
        }

        private static double busySeconds(List<Event.ActionSpan> sortedSpans) {
            double busy = 0;
            for (Event.ActionSpan s : sortedSpans) if (s.phase() == Phase.OPT) busy += s.seconds();
            for (Event.ActionSpan s : sortedSpans) if (s.phase() != Phase.OPT) busy += s.seconds();
            return busy;
        }

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

        public synchronized List<LinkStats> links(int step) {
            StepData d = steps.get(step);
            if (d == null) return List.of();
            return linkStats(d);
        }

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

        public synchronized SortedMap<Integer, Long> allReduceBytesByStage() {
            TreeMap<Integer, Long> out = new TreeMap<>();
            for (StepData d : steps.values()) for (Event.AllReduceSpan a : d.allReduces) out.merge(a.stage(), a.bytes(), Long::sum);
            return Collections.unmodifiableSortedMap(out);
        }

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
}
