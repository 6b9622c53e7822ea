package dev.pipelab.monitoring;

import dev.pipelab.monitoring.report.RunReport;
import dev.pipelab.monitoring.report.SummaryTable;
import dev.pipelab.monitoring.report.TextGantt;
import dev.pipelab.monitoring.synthetic.FaultyRun;
import dev.pipelab.monitoring.synthetic.StepBuilder;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TerminalViewsTest {

    @Test
    void progressLineAfterTheThirdOfTwentySteps() {
        RunTelemetry t = RunTelemetry.of(TinyGPipe.info(), TinyGPipe.events(3));
        String line = ProgressLine.of(t.lastSummary().orElseThrow(), 20, 1.5);
        assertThat(line).isEqualTo("step  3/20  step 10.000 s  util 65.0%  1,234 samples/s  ETA 8.5 s");
    }

    @Test
    void progressLineEtaInMinutesAndTheLastStep() {
        StepSummary first = RunTelemetry.of(TinyGPipe.info(), TinyGPipe.events(1)).lastSummary().orElseThrow();
        assertThat(ProgressLine.of(first, 100, 2.5)).endsWith("ETA 4 m 08 s").startsWith("step   1/100  ");
        assertThat(ProgressLine.of(first, 1, 2.5)).endsWith("ETA 0.0 s").startsWith("step 1/1  ");
    }

    @Test
    void progressLineCountsAttemptsWhenReplaysOutnumberTheSteps() {
        // a faulty run of 2 training steps whose third attempt replays one: no step 3/2, and no ETA to promise
        StepSummary third = RunTelemetry.of(TinyGPipe.info(), TinyGPipe.events(3)).lastSummary().orElseThrow();
        assertThat(ProgressLine.of(third, 2, 1.5)).isEqualTo("attempt 3 (2 steps and replays)  step 10.000 s  util 65.0%  1,234 samples/s");
    }

    @Test
    void progressLineSaysWhatWasExpected() {
        StepSummary third = RunTelemetry.of(TinyGPipe.info(), TinyGPipe.events(3)).lastSummary().orElseThrow();
        assertThatThrownBy(() -> ProgressLine.of(third, 0, 1)).hasMessage("totalSteps must be >= 1, got 0");
        assertThatThrownBy(() -> ProgressLine.of(third, 5, -1))
                .hasMessage("wallElapsedSeconds must be >= 0, got -1.0");
    }

    @Test
    void summaryTable() {
        RunReport report = RunReport.of(RunTelemetry.of(TinyGPipe.info(), TinyGPipe.events(2)), new WallClock("t", 0));
        assertThat(SummaryTable.render(report)).isEqualTo(""
                + "tiny  gpipe  p=2 d=1 t=1 v=1  b=6172 m=2  2 steps  virtual clock\n"
                + "rank layers          F          B          W          R        OPT    busy   peak GB in-flight\n"
                + "   0      3    2.000 s    4.000 s        0 s        0 s 500.000 ms   65.0%      0.00         2\n"
                + "   1      5    2.000 s    4.000 s        0 s        0 s 500.000 ms   65.0%      0.00         2\n"
                + "phase seconds are per step (mean over steps and replicas)\n"
                + "step time   10.000 s mean, 10.000 s last\n"
                + "bubble      35.0% of stage-time idle\n"
                + "throughput  1,234 samples/s, 9,875 tokens/s\n"
                + "MFU         50.0% (HFU 75.0%)\n");
    }

    @Test
    void aClusterRunsSummaryHasANodeColumnWithTheWorkersBelow() {
        RunInfo deployed = TinyGPipe.info().with(new Deployment("explicit",
                List.of("pekko://pipelab@127.0.0.1:25521", "pekko://pipelab@127.0.0.1:25522"), List.of(List.of(1, 0))));
        RunReport report = RunReport.of(RunTelemetry.of(deployed, TinyGPipe.events(2)), new WallClock("t", 0));
        assertThat(SummaryTable.render(report)).startsWith(""
                + "tiny  gpipe  p=2 d=1 t=1 v=1  b=6172 m=2  2 steps  virtual clock\n"
                + "rank layers          F          B          W          R        OPT    busy   peak GB in-flight  node\n"
                + "   0      3    2.000 s    4.000 s        0 s        0 s 500.000 ms   65.0%      0.00         2  1\n"
                + "   1      5    2.000 s    4.000 s        0 s        0 s 500.000 ms   65.0%      0.00         2  0\n"
                + "node: the worker JVM of the rank in replica 0 (placement explicit): 0 = 127.0.0.1:25521, 1 = 127.0.0.1:25522\n"
                + "phase seconds are per step");
    }

    @Test
    void aFaultyRunsSummaryHasALinePerFaultAndRecoveryThenGoodputAndTheLedger() {
        RunReport report = RunReport.of(RunTelemetry.of(TinyGPipe.info(), FaultyRun.events(TinyGPipe.info())), new WallClock("t", 0));
        assertThat(SummaryTable.render(report)).endsWith("MFU         50.0% (HFU 75.0%)\n"
                + "fault 0    stage.crash 0/1 at=2+3.0  injected 25.000 s, detected 27.000 s, recovered 40.000 s, lost 13.000 s\n"
                + "fault 1    link.latency 0/0->1 at=1+1.0 for=4.0 seconds=0.5  injected 41.000 s, healed 45.000 s\n"
                + "recovery   attempt 2 (fault 0): stage 0/1 crashed; failed 25.000 s, detected after 2.000 s, recovered 40.000 s, "
                + "resumed from step 1, replayed 1 step, lost 13.000 s\n"
                + "checkpoints 1, 2.000 s, 0.00 GB\n"
                + "goodput     50.0% (30.000 s useful of 60.000 s; replayed 1 step, lost 13.000 s)\n"
                + "ledger      balanced (3 training steps): every step's micro-batches consumed once, one optimizer step per rank\n");
    }

    @Test
    void droppedAndDuplicatedTransmissionsGetALineOfTheirOwn() {
        List<Event> events = new ArrayList<>(FaultyRun.events(TinyGPipe.info()));
        events.add(new Event.StepEnded(4, 10.0, 60.0, 0, List.of(), List.of(new LinkRecord(4, 0, 0, 0, 1, false, 4000, 1.0, 4, 0,
                5, 1, List.of()))));
        RunReport report = RunReport.of(RunTelemetry.of(TinyGPipe.info(), events), new WallClock("t", 0));
        assertThat(SummaryTable.render(report)).contains("recovered 40.000 s, resumed from step 1, replayed 1 step, lost 13.000 s\n"
                + "links       5 transmissions dropped and sent again, 1 duplicate dropped by receivers\n"
                + "checkpoints 1");
    }

    @Test
    void anUnbalancedLedgerIsShownWithItsProblemsEvenWithoutFaults() {
        List<Event> events = new ArrayList<>(TinyGPipe.events(2));
        events.add(FaultyRun.commit(TinyGPipe.info(), 1, 1));
        RunReport report = RunReport.of(RunTelemetry.of(TinyGPipe.info(), events), new WallClock("t", 0));
        assertThat(SummaryTable.render(report)).endsWith("ledger      NOT balanced: 1 problem\n"
                + "  training step 0: never committed (later steps were)\n");
    }

    @Test
    void summaryCountsOutOfMemoryEvents() {
        List<Event> events = List.of(TinyGPipe.events(1).get(0), withOutOfMemory((Event.StepEnded) TinyGPipe.events(1).get(1)));
        RunReport report = RunReport.of(RunTelemetry.of(TinyGPipe.info(), events), new WallClock("t", 0));
        assertThat(SummaryTable.render(report)).endsWith("out of memory: 1 event\n").contains("1 step  virtual clock");
    }

    @Test
    void summarySaysARunDidNotCompleteWithTheFirstLineOfWhy() {
        RunReport report = RunReport.of(RunTelemetry.of(TinyGPipe.info(), TinyGPipe.events(1)),
                RunReport.Outcome.deadlocked("deadlock at step 1\nrank 0 | 0F0 0B0"), new WallClock("t", 0));
        assertThat(SummaryTable.render(report)).endsWith("MFU         50.0% (HFU 75.0%)\nrun deadlocked: deadlock at step 1\n");
    }

    @Test
    void ganttOfTheLastStepHalfASecondPerColumn() {
        // F0 F1 idle B0 B1 O on rank 0; rank 1 starts at 1.25; a column shows what covers most of its 0.5 s,
        // a phase wins a tie with idle and F wins a tie with B
        assertThat(TextGantt.render(RunTelemetry.of(TinyGPipe.info(), TinyGPipe.events(2)), 0, 20)).isEqualTo(""
                + "step 1, replica 0, 500.000 ms per column\n"
                + "rank 0 |FFFF.......BBBBBBBBO|\n"
                + "rank 1 |..FFFFFBBBBBBBBO....|\n"
                + "        0           10.000 s\n"
                + "F forward  B backward  W weight gradient  R recompute  O optimizer  . idle\n");
    }

    @Test
    void ganttOfOtherReplicaOrNothing() {
        assertThat(TextGantt.render(RunTelemetry.of(TinyGPipe.info(), TinyGPipe.events(1)), 3, 20))
                .startsWith("step 0, replica 3,").doesNotContain("rank 0");
        assertThat(TextGantt.render(new RunTelemetry(TinyGPipe.info()), 0, 20)).isEqualTo("no steps of replica 0 yet\n");
    }

    @Test
    void ganttOfAStepRecordedWithoutSpansSaysSo() {
        List<Event> spanless = new ArrayList<>();
        for (Event e : TinyGPipe.events(1)) {
            if (e instanceof Event.StepEnded s) {
                List<StageRecord> sums = s.stages().stream().map(r -> new StageRecord(r.step(), r.replica(), r.rank(),
                        r.busySecondsByPhase(), r.busySeconds(), r.liveMemoryBytes(), r.peakMemoryBytes(), r.peakInFlight(),
                        r.stallSecondsByRank(), r.allReduces(), r.outOfMemory(), List.of(), List.of(), List.of())).toList();
                spanless.add(new Event.StepEnded(s.step(), s.stepSeconds(), s.runSeconds(), s.committedOffset(), sums, s.links()));
            } else {
                spanless.add(e);
            }
        }
        assertThat(TextGantt.render(RunTelemetry.of(TinyGPipe.info(), spanless), 0, 20)).isEqualTo(
                "no spans recorded for the Gantt of step 0 (telemetry below spans; pipelab run --telemetry spans draws it)\n");
    }

    @Test
    void ganttShowsSplitPhasesAndRecompute() {
        // a step that never ended is drawn up to its last action
        StepBuilder b = new StepBuilder(TinyGPipe.info(), 0).action(0, 0, 0, Phase.F, 0, 0, 1)
                .action(0, 0, 0, Phase.R, 0, 1, 2).action(0, 0, 0, Phase.B, 0, 2, 3).action(0, 0, 0, Phase.W, 0, 3, 4);
        RunTelemetry t = RunTelemetry.of(TinyGPipe.info(), List.of(b.abandoned("stuck")));
        assertThat(TextGantt.render(t, 0, 8).lines().toList().get(1)).isEqualTo("rank 0 |FFRRBBWW|");
    }

    @Test
    void ganttOfManyRanksShowsTheFirstAndLastEight() {
        int p = 20;
        List<Integer> layers = new ArrayList<>();
        List<Long> statics = new ArrayList<>();
        for (int r = 0; r < p; r++) {
            layers.add(1);
            statics.add(0L);
        }
        RunInfo info = new RunInfo("wide", "gpipe", p, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, layers, statics);
        StepBuilder b = new StepBuilder(info, 0);
        for (int r = 0; r < p; r++) b.action(0, r, r, Phase.F, 0, r, r + 1);
        List<String> lines = TextGantt.render(RunTelemetry.of(info, List.of(b.ended(p, p, 1))), 0, 20).lines().toList();
        assertThat(lines).hasSize(1 + 16 + 1 + 2);
        assertThat(lines.get(1)).isEqualTo("rank  0 |F...................|");
        assertThat(lines.get(8)).startsWith("rank  7 |");
        assertThat(lines.get(9)).isEqualTo("         (ranks 8-11 not shown)");
        assertThat(lines.get(10)).startsWith("rank 12 |");
        assertThat(lines.get(17)).isEqualTo("rank 19 |...................F|");
    }

    /** {@code ended} with rank 1 of replica 0 over its device's memory at 2.25 s. */
    private static Event.StepEnded withOutOfMemory(Event.StepEnded ended) {
        List<StageRecord> stages = new ArrayList<>();
        for (StageRecord s : ended.stages()) {
            List<StageRecord.OutOfMemory> oom = s.rank() == 1 ? List.of(new StageRecord.OutOfMemory(1, 2.25, 2, 1)) : List.of();
            stages.add(new StageRecord(s.step(), s.replica(), s.rank(), s.busySecondsByPhase(), s.busySeconds(),
                    s.liveMemoryBytes(), s.peakMemoryBytes(), s.peakInFlight(), s.stallSecondsByRank(), s.allReduces(),
                    oom, s.actions(), s.memory(), s.stalls()));
        }
        return new Event.StepEnded(ended.step(), ended.stepSeconds(), ended.runSeconds(), ended.committedOffset(), stages,
                ended.links());
    }

    @Test
    void unitsIgnoreTheDefaultLocale() {
        Locale saved = Locale.getDefault();
        try {
            Locale.setDefault(Locale.GERMANY);
            assertThat(Units.count(1234.4)).isEqualTo("1,234");
            assertThat(Units.seconds(1.2344)).isEqualTo("1.234 s");
            assertThat(Units.seconds(0.0125)).isEqualTo("12.500 ms");
            assertThat(Units.duration(7384)).isEqualTo("2 h 03 m");
        } finally {
            Locale.setDefault(saved);
        }
    }

    @Test
    void runInfoKeepsTheMemoryBreakdown() {
        RunInfo info = TinyGPipe.info().with("wall", 4, Optional.of(MemoryInfo.of(1, 2, 3, 4)));
        assertThat(info.memory().orElseThrow().totalBytes()).isEqualTo(10);
        assertThat(info.clock()).isEqualTo("wall");
        assertThatThrownBy(() -> new MemoryInfo(1, 2, 3, 4, 11)).hasMessage("totalBytes must be the sum of the parts (10), got 11");
    }
}
