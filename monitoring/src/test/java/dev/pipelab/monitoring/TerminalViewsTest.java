package dev.pipelab.monitoring;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TerminalViewsTest {

    @Test
    void progressLineAfterTheThirdOfTwentySteps() {
        RunAggregate a = RunAggregate.of(TinyGPipe.info(), TinyGPipe.events(3));
        String line = ProgressLine.of(a.lastEnded().orElseThrow(), a, 20, 1.5);
        assertThat(line).isEqualTo("step  3/20  step 10.000 s  util 65.0%  1,234 samples/s  ETA 8.5 s");
    }

    @Test
    void progressLineEtaInMinutesAndTheLastStep() {
        RunAggregate a = RunAggregate.of(TinyGPipe.info(), TinyGPipe.events(1));
        Event.StepEnded ended = a.lastEnded().orElseThrow();
        assertThat(ProgressLine.of(ended, a, 100, 2.5)).endsWith("ETA 4 m 08 s").startsWith("step   1/100  ");
        assertThat(ProgressLine.of(ended, a, 1, 2.5)).endsWith("ETA 0.0 s").startsWith("step 1/1  ");
    }

    @Test
    void progressLineNeedsTheStepAccepted() {
        RunAggregate a = new RunAggregate(TinyGPipe.info());
        assertThatThrownBy(() -> ProgressLine.of(new Event.StepEnded(0, 1, 1, 1), a, 5, 1))
                .hasMessage("the aggregate has not accepted StepEnded of step 0 yet");
    }

    @Test
    void summaryTable() {
        RunReport report = RunReport.of(RunAggregate.of(TinyGPipe.info(), TinyGPipe.events(2)), new WallClock("t", 0));
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
    void summaryCountsOutOfMemoryEvents() {
        List<Object> events = new ArrayList<>(TinyGPipe.events(1));
        events.add(new Event.OutOfMemory(0, 0, 1, 2.25, 2, 1));
        RunReport report = RunReport.of(RunAggregate.of(TinyGPipe.info(), Events.batched(events)), new WallClock("t", 0));
        assertThat(SummaryTable.render(report)).endsWith("out of memory: 1 event\n").contains("1 step  virtual clock");
    }

    @Test
    void ganttOfTheLastStepHalfASecondPerColumn() {
        // F0 F1 idle B0 B1 O on rank 0; rank 1 starts at 1.25; a column shows what covers most of its 0.5 s,
        // a phase wins a tie with idle and F wins a tie with B
        assertThat(TextGantt.render(TinyGPipe.events(2), 0, 20)).isEqualTo(""
                + "step 1, replica 0, 500.000 ms per column\n"
                + "rank 0 |FFFF.......BBBBBBBBO|\n"
                + "rank 1 |..FFFFFBBBBBBBBO....|\n"
                + "        0           10.000 s\n"
                + "F forward  B backward  W weight gradient  R recompute  O optimizer  . idle\n");
    }

    @Test
    void ganttOfOtherReplicaOrNothing() {
        assertThat(TextGantt.render(TinyGPipe.events(1), 3, 20)).startsWith("step 0, replica 3,")
                .doesNotContain("rank 0");
        assertThat(TextGantt.render(List.of(), 0, 20)).isEqualTo("no steps of replica 0 yet\n");
    }

    @Test
    void ganttShowsSplitPhasesAndRecompute() {
        List<Object> events = List.of(
                new Event.ActionSpan(0, 0, 0, 0, Phase.F, 0, 0, 1), new Event.ActionSpan(0, 0, 0, 0, Phase.R, 0, 1, 2),
                new Event.ActionSpan(0, 0, 0, 0, Phase.B, 0, 2, 3), new Event.ActionSpan(0, 0, 0, 0, Phase.W, 0, 3, 4));
        assertThat(TextGantt.render(Events.batched(events), 0, 8).lines().toList().get(1)).isEqualTo("rank 0 |FFRRBBWW|");
    }

    @Test
    void ganttOfManyRanksShowsTheFirstAndLastEight() {
        List<Object> events = new ArrayList<>();
        int p = 20;
        for (int r = 0; r < p; r++) events.add(new Event.ActionSpan(0, 0, r, r, Phase.F, 0, r, r + 1));
        events.add(new Event.StepEnded(0, p, p, 1));
        List<String> lines = TextGantt.render(Events.batched(events), 0, 20).lines().toList();
        assertThat(lines).hasSize(1 + 16 + 1 + 2);
        assertThat(lines.get(1)).isEqualTo("rank  0 |F...................|");
        assertThat(lines.get(8)).startsWith("rank  7 |");
        assertThat(lines.get(9)).isEqualTo("         (ranks 8-11 not shown)");
        assertThat(lines.get(10)).startsWith("rank 12 |");
        assertThat(lines.get(17)).isEqualTo("rank 19 |...................F|");
    }

    @Test
    void unitsIgnoreTheDefaultLocale() {
        java.util.Locale saved = java.util.Locale.getDefault();
        try {
            java.util.Locale.setDefault(java.util.Locale.GERMANY);
            assertThat(Units.count(1234.4)).isEqualTo("1,234");
            assertThat(Units.seconds(1.2344)).isEqualTo("1.234 s");
            assertThat(Units.seconds(0.0125)).isEqualTo("12.500 ms");
            assertThat(Units.duration(7384)).isEqualTo("2 h 03 m");
        } finally {
            java.util.Locale.setDefault(saved);
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
