package dev.pipelab.monitoring;

import dev.pipelab.monitoring.synthetic.FaultyRun;
import dev.pipelab.monitoring.synthetic.StepBuilder;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

class RunTelemetryTest {

    private static StepSummary step0(List<Event> events) {
        return RunTelemetry.of(TinyGPipe.info(), events).summary(0).orElseThrow();
    }

    @Test
    void busySecondsByPhaseIdleAndFractionPerRank() {
        StepSummary s = step0(TinyGPipe.events(1));
        RankStats r0 = s.rank(0, 0);
        assertThat(r0.busySeconds(Phase.F)).isEqualTo(2.0);
        assertThat(r0.busySeconds(Phase.B)).isEqualTo(4.0);
        assertThat(r0.busySeconds(Phase.W)).isEqualTo(0.0);
        assertThat(r0.busySeconds(Phase.R)).isEqualTo(0.0);
        assertThat(r0.busySeconds(Phase.OPT)).isEqualTo(0.5);
        assertThat(r0.busySeconds()).isEqualTo(6.5);
        assertThat(r0.busyFraction()).isEqualTo(0.65);
        assertThat(r0.idleSeconds()).isEqualTo(3.5);
        assertThat(s.ranks()).extracting(RankStats::rank).containsExactly(0, 1);
    }

    @Test
    void bubbleIsIdleStageTimeOverStageTimeAsOneDivision() {
        StepStats s = step0(TinyGPipe.events(1)).stats();
        assertThat(s.stepSeconds()).isEqualTo(10.0);
        assertThat(s.busySeconds()).isEqualTo(13.0);
        assertThat(s.bubbleFraction()).isEqualTo(0.35);
    }

    @Test
    void bubbleOfOneThirdComesOutCorrectlyRounded() {
        // p=3 ranks, step 3 s, busy 2 s each: (9 - 6) / 9 = 1/3 exactly rounded
        RunInfo info = new RunInfo("third", "gpipe", 3, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, List.of(1, 1, 1), List.of(0L, 0L, 0L));
        StepBuilder b = new StepBuilder(info, 0);
        for (int r = 0; r < 3; r++) b.action(0, r, r, Phase.F, 0, r * 0.5, r * 0.5 + 2);
        StepSummary s = RunTelemetry.of(info, List.of(b.ended(3.0, 3.0, 1))).summary(0).orElseThrow();
        assertThat(s.stats().bubbleFraction()).isEqualTo(1.0 / 3);
    }

    @Test
    void throughputAndUtilizationOfAStep() {
        StepStats s = step0(TinyGPipe.events(1)).stats();
        assertThat(s.samplesPerSecond()).isEqualTo(TinyGPipe.B * 2 / 10.0);
        assertThat(s.tokensPerSecond()).isEqualTo(TinyGPipe.B * 2 * 8 / 10.0);
        assertThat(s.mfu()).isEqualTo(0.5);   // 1e12 / (10 s · 2 devices · 1e11)
        assertThat(s.hfu()).isEqualTo(0.75);
        assertThat(s.runSeconds()).isEqualTo(10.0);
        assertThat(s.committedOffset()).isEqualTo(TinyGPipe.B * 2L);
    }

    @Test
    void numbersDoNotDependOnArrivalOrder() {
        RunTelemetry inOrder = RunTelemetry.of(TinyGPipe.info(), TinyGPipe.events(2));
        for (long seed = 1; seed <= 5; seed++) {
            RunTelemetry shuffled = RunTelemetry.of(TinyGPipe.info(), TinyGPipe.shuffled(2, seed));
            assertThat(shuffled.stepStats()).isEqualTo(inOrder.stepStats());
            assertThat(shuffled.summary(1).orElseThrow().ranks()).isEqualTo(inOrder.summary(1).orElseThrow().ranks());
            assertThat(shuffled.linksOverRun()).isEqualTo(inOrder.linksOverRun());
            assertThat(shuffled.ranksOverRun()).isEqualTo(inOrder.ranksOverRun());
            assertThat(shuffled.totals()).isEqualTo(inOrder.totals());
        }
    }

    @Test
    void busyIsTheRecordsEvaluatorOrderSumNotTheSumOfItsPhases() {
        // the evaluator adds the optimizer's seconds, then each action's in the rank's order; doubles do not
        // associate, so summing in start order (F, B, OPT) would differ in the last bit here
        RunInfo info = new RunInfo("order", "gpipe", 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, List.of(1), List.of(0L));
        double f = 0.1 - 0.0;
        double b = 0.2 - 0.1;
        double opt = 1.1 - 0.2;
        double evaluatorOrder = opt;
        evaluatorOrder += f;
        evaluatorOrder += b;
        double startOrder = f;
        startOrder += b;
        startOrder += opt;
        assertThat(startOrder).isNotEqualTo(evaluatorOrder);
        StepBuilder step = new StepBuilder(info, 0).action(0, 0, 0, Phase.B, 0, 0.1, 0.2)
                .action(0, 0, 0, Phase.OPT, -1, 0.2, 1.1).action(0, 0, 0, Phase.F, 0, 0.0, 0.1);
        StepSummary s = RunTelemetry.of(info, List.of(step.ended(1.1, 1.1, 1))).summary(0).orElseThrow();
        assertThat(s.rank(0, 0).busySeconds()).isEqualTo(evaluatorOrder);
        assertThat(s.stats().busySeconds()).isEqualTo(evaluatorOrder);
    }

    @Test
    void peakAndLiveMemoryFromTheRecordsAndStaticBytesWithoutAStep() {
        StepSummary s = step0(TinyGPipe.shuffled(1, 7));
        assertThat(s.rank(0, 0).peakMemoryBytes()).isEqualTo(160);
        assertThat(s.rank(0, 0).liveMemoryBytes()).isEqualTo(60);
        assertThat(s.rank(0, 1).peakMemoryBytes()).isEqualTo(140);
        assertThat(s.rank(0, 1).liveMemoryBytes()).isEqualTo(40);
        RunTelemetry empty = new RunTelemetry(TinyGPipe.info());
        assertThat(empty.ranksOverRun().get(0).peakMemoryBytes()).isEqualTo(60);
        assertThat(empty.ranksOverRun().get(1).liveMemoryBytes()).isEqualTo(40);
    }

    @Test
    void aRankWithoutARecordDidNothingAndHoldsItsStaticBytes() {
        StepBuilder b = new StepBuilder(TinyGPipe.info(), 0).action(0, 0, 0, Phase.F, 0, 0, 1);
        StepSummary s = RunTelemetry.of(TinyGPipe.info(), List.of(b.ended(2.0, 2.0, 1))).summary(0).orElseThrow();
        assertThat(s.rank(0, 1)).isEqualTo(new RankStats(0, 1, Map.of(), 0.0, 2.0, 0.0, 2.0, 40, 40, 0));
        assertThat(s.stats().busySeconds()).isEqualTo(1.0);
    }

    @Test
    void inFlightOfGPipeIsAllMicroBatches() {
        StepSummary s = step0(TinyGPipe.events(1));
        assertThat(s.rank(0, 0).peakInFlight()).isEqualTo(2);
        assertThat(s.rank(0, 1).peakInFlight()).isEqualTo(2);
    }

    @Test
    void linkBytesBusyAndTransfers() {
        List<LinkStats> links = RunTelemetry.of(TinyGPipe.info(), TinyGPipe.events(2)).linksOverRun();
        assertThat(links).containsExactly(
                new LinkStats(0, 0, 1, 4000, 1.0, 4, 0.0, 0),
                new LinkStats(0, 1, 0, 4000, 1.0, 4, 0.0, 0));
    }

    @Test
    void creditStallsAndQueueDepth() {
        // waiting intervals [0,2), [2,3), [2,3): the first leaves as the other two become ready, so the depth is 2
        StepBuilder b = new StepBuilder(TinyGPipe.info(), 0)
                .transfer(0, 0, 1, TransferKind.ACTIVATION, 0, 0, 10, 0, 2, 2.5)
                .transfer(0, 0, 1, TransferKind.ACTIVATION, 0, 1, 10, 2, 3, 3.5)
                .transfer(0, 0, 1, TransferKind.ACTIVATION, 0, 2, 10, 2, 3.5, 4)
                .transfer(0, 0, 1, TransferKind.ACTIVATION, 0, 3, 10, 4, 4, 4.5)
                .stall(0, 0, 1, 2, 2.5).stall(0, 0, 1, 3, 3.25).stall(0, 1, 0, 1, 1.5);
        List<LinkStats> links = step0(List.of(b.ended(5, 5, 1))).links();
        assertThat(links).containsExactly(
                new LinkStats(0, 0, 1, 40, 2.0, 4, 0.75, 2),
                new LinkStats(0, 1, 0, 0, 0.0, 0, 0.5, 0));
    }

    @Test
    void ringLinksAreListedAmongPipelineLinksByReplicaFromTo() {
        RunInfo info = new RunInfo("ring", "gpipe", 2, 2, 1, 1, 1, 1, 1, 0, 0, 1, 1, List.of(1, 1), List.of(0L, 0L));
        StepBuilder b = new StepBuilder(info, 0).transfer(0, 0, 1, TransferKind.ACTIVATION, 0, 0, 10, 0, 0, 1)
                .transfer(0, 1, 0, TransferKind.GRADIENT, 1, 0, 10, 1, 1, 2).ring(0, 1, 0, 0, 7, 2, 2, 3)
                .ring(0, 1, 1, 1, 9, 2, 2, 2.5).ring(1, 0, 1, 1, 9, 2, 2, 2.5);
        List<LinkStats> links = RunTelemetry.of(info, List.of(b.ended(3, 3, 1))).summary(0).orElseThrow().links();
        assertThat(links).extracting(l -> List.of(l.replica(), l.fromRank(), l.toRank()))
                .containsExactly(List.of(0, 0, 0), List.of(0, 0, 1), List.of(0, 1, 0), List.of(0, 1, 1), List.of(1, 1, 1));
        assertThat(links.get(0)).isEqualTo(new LinkStats(0, 0, 0, 7, 1.0, 1, 0.0, 0));
    }

    @Test
    void allReduceSecondsAndBytesPerStage() {
        RunInfo info = new RunInfo("ar", "gpipe", 2, 2, 1, 1, 1, 1, 1, 0, 0, 1, 1, List.of(1, 1), List.of(0L, 0L));
        StepBuilder b = new StepBuilder(info, 0).allReduce(0, 1, 1, 100, 8, 9.5).allReduce(1, 1, 1, 100, 8, 9)
                .allReduce(0, 0, 0, 50, 9, 9.25);
        RunTelemetry t = RunTelemetry.of(info, List.of(b.ended(10, 10, 1)));
        assertThat(t.allReduceSecondsByStage()).containsExactly(entry(0, 0.25), entry(1, 2.5));
        assertThat(t.allReduceBytesByStage()).containsEntry(1, 200L).containsEntry(0, 50L);
        assertThat(t.summary(0).orElseThrow().allReduceSecondsByStage()).containsExactly(entry(0, 0.25), entry(1, 2.5));
    }

    @Test
    void totalsOverCompletedStepsOnlyAndOutOfMemoryOfEveryStep() {
        List<Event> events = new ArrayList<>(TinyGPipe.events(2));
        events.add(new Event.StepStarted(2, 20, TinyGPipe.B * 4L, 2));
        events.add(new StepBuilder(TinyGPipe.info(), 2).action(0, 0, 0, Phase.F, 0, 0, 1)
                .outOfMemory(0, 0, 0, 0.5, 2_000_000_000L, 1_000_000_000L).abandoned("deadlock"));
        RunTelemetry t = RunTelemetry.of(TinyGPipe.info(), events);
        assertThat(t.totals()).isEqualTo(new RunTotals(2, 20.0, 10.0, 10.0, TinyGPipe.B * 4L, TinyGPipe.B * 4L * 8, 26.0,
                8000, 0.0, 1));
        assertThat(t.summaries()).extracting(StepSummary::step).containsExactly(0, 1);
        assertThat(t.summary(2)).isEmpty();
        assertThat(t.abandoned()).extracting(Event.StepAbandoned::step).containsExactly(2);
        assertThat(t.outOfMemory()).containsExactly(new StepSummary.OutOfMemory(2, 0, 0, 0.5, 2_000_000_000L, 1_000_000_000L));
    }

    @Test
    void aRepeatedStepEndReplacesTheEarlierOne() {
        List<Event> events = new ArrayList<>(TinyGPipe.events(1));
        events.add(new Event.StepEnded(0, 20.0, 20.0, 5));
        RunTelemetry t = RunTelemetry.of(TinyGPipe.info(), events);
        assertThat(t.summaries()).hasSize(1);
        assertThat(t.totals().meanStepSeconds()).isEqualTo(20.0);
    }

    @Test
    void listenersHearEachSummaryOnceAndEachLoss() {
        RunTelemetry t = new RunTelemetry(TinyGPipe.info());
        List<String> heard = new ArrayList<>();
        t.addListener(new RunTelemetry.Listener() {
            @Override
            public void stepSummarised(StepSummary summary) {
                // a listener may query back: the summary is already kept
                heard.add("step " + summary.step() + " kept " + t.summary(summary.step()).isPresent());
            }

            @Override
            public void lossReported(int step, double loss) {
                heard.add("loss " + step + " " + loss);
            }
        });
        for (Event e : TinyGPipe.events(2)) t.emit(e);
        t.emit(new Event.StepLoss(1, 2.5));
        assertThat(heard).containsExactly("step 0 kept true", "step 1 kept true", "loss 1 2.5");
        assertThat(t.losses()).containsExactly(2.5);
    }

    @Test
    void runLevelRankNumbersOfIdenticalStepsEqualOneStepExactly() {
        RunTelemetry one = RunTelemetry.of(TinyGPipe.info(), TinyGPipe.events(1));
        RunTelemetry three = RunTelemetry.of(TinyGPipe.info(), TinyGPipe.events(3));
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
                List.of(0L, 0L), "virtual", 1, Optional.empty(), Optional.empty()))
                .hasMessage("devices must be pipeline·data·tensor = 2·2·1 = 4, got 3");
        assertThatThrownBy(() -> new RunInfo("x", "gpipe", 2, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, List.of(1), List.of(0L, 0L)))
                .hasMessage("layersPerRank must have one entry per rank (2), got 1");
        assertThatThrownBy(() -> TinyGPipe.info().with("fast", 1, Optional.empty()))
                .hasMessage("clock must be virtual or wall, got fast");
        assertThatThrownBy(() -> new RunInfo("x", "gpipe", 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, List.of(1), List.of(0L)))
                .hasMessageStartingWith("hardwareFlopsPerStep must be finite and >= modelFlopsPerStep");
    }

    @Test
    void aFaultyRunsFaultsRecoveryCheckpointsGoodputAndLedger() {
        FaultSummary f = RunTelemetry.of(TinyGPipe.info(), FaultyRun.events(TinyGPipe.info())).faultSummary();
        assertThat(f.faults()).hasSize(2);
        FaultSummary.Fault crash = f.faults().get(0);
        assertThat(crash.kind()).isEqualTo("stage.crash");
        assertThat(crash.target()).isEqualTo("0/1");
        assertThat(crash.injectedAtSeconds()).isEqualTo(25.0);
        assertThat(crash.healedAtSeconds()).isEmpty();
        assertThat(crash.detectedAtSeconds()).hasValue(27.0);
        assertThat(crash.recoveredAtSeconds()).hasValue(40.0);
        assertThat(crash.lostWorkSeconds()).isEqualTo(FaultyRun.LOST_WORK_SECONDS);
        FaultSummary.Fault latency = f.faults().get(1);
        assertThat(latency.healedAtSeconds()).hasValue(45.0);
        assertThat(latency.recoveries()).isEmpty();
        assertThat(latency.detectedAtSeconds()).isEmpty();
        assertThat(f.recoveries()).singleElement().extracting(Event.Recovered::resumedFromStep).isEqualTo(1);
        assertThat(f.replayedSteps()).isEqualTo(1);
        assertThat(f.lostWorkSeconds()).isEqualTo(FaultyRun.LOST_WORK_SECONDS);
        assertThat(f.checkpoints()).hasSize(1);
        assertThat(f.checkpointSeconds()).isEqualTo(2.0);
        // useful: the attempts of the lineage (0, 3, 4), not the first run of step 1 (attempt 1)
        assertThat(f.usefulSeconds()).isEqualTo(30.0);
        assertThat(f.elapsedSeconds()).isEqualTo(FaultyRun.ELAPSED_SECONDS);
        assertThat(f.goodput()).isEqualTo(FaultyRun.GOODPUT);
        Ledger ledger = f.ledger().orElseThrow();
        assertThat(ledger.problems()).isEmpty();
        assertThat(ledger.lineage()).extracting(Event.StepCommitted::step).containsExactly(0, 3, 4);
        assertThat(f.verdict()).isEqualTo("balanced (3 training steps)");
        // keyed, not ordered: any arrival order gives the same summary
        assertThat(RunTelemetry.of(TinyGPipe.info(), FaultyRun.shuffled(TinyGPipe.info(), 7)).faultSummary()).isEqualTo(f);
    }

    @Test
    void aFaultFreeRunHasGoodputOneAndNothingToShow() {
        List<Event> events = new ArrayList<>(TinyGPipe.events(3));
        FaultSummary unrecorded = RunTelemetry.of(TinyGPipe.info(), events).faultSummary();
        assertThat(unrecorded.ledger()).isEmpty();
        assertThat(unrecorded.goodput()).isEqualTo(1.0);
        assertThat(unrecorded.any()).isFalse();
        assertThat(unrecorded.verdict()).startsWith("not recorded");
        for (int k = 0; k < 3; k++) events.add(FaultyRun.commit(TinyGPipe.info(), k, k));
        FaultSummary recorded = RunTelemetry.of(TinyGPipe.info(), events).faultSummary();
        assertThat(recorded.ledger().orElseThrow().steps()).isEqualTo(3);
        assertThat(recorded.goodput()).isEqualTo(1.0);
        assertThat(recorded.any()).isFalse();
        assertThat(RunTelemetry.of(TinyGPipe.info(), List.of()).faultSummary().goodput()).isZero();
    }

    @Test
    void listenersHearOfFaultsOnceAndOfEachCommittedStepAfterTheFirstFault() {
        RunTelemetry telemetry = new RunTelemetry(TinyGPipe.info());
        List<FaultSummary> heard = new ArrayList<>();
        telemetry.addListener(new RunTelemetry.Listener() {
            @Override
            public void stepSummarised(StepSummary summary) {}

            @Override
            public void faultsChanged(FaultSummary faults) {
                heard.add(faults);
            }
        });
        List<Event> events = FaultyRun.events(TinyGPipe.info());
        // attempt 0 and its commit come before any fault activity: nothing to hear
        for (Event e : events.subList(0, 3)) telemetry.emit(e);
        assertThat(heard).isEmpty();
        for (Event e : events) telemetry.emit(e);
        telemetry.emit(events.get(3)); // the checkpoint again: no news
        // checkpoint, attempt 1 (ended + committed), crash, recovery, attempt 3, latency, heal, attempt 4
        assertThat(heard).hasSize(8);
        assertThat(heard.get(heard.size() - 1)).isEqualTo(telemetry.faultSummary());
        assertThat(heard.get(heard.size() - 1).goodput()).isEqualTo(FaultyRun.GOODPUT);
    }
}
