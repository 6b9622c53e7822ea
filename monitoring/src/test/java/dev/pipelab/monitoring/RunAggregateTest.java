package dev.pipelab.monitoring;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

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
}
