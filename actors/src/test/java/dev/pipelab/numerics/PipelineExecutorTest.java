package dev.pipelab.numerics;

import dev.pipelab.model.Partition;
import dev.pipelab.model.Recompute;
import dev.pipelab.schedule.Action;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PipelineExecutorTest {

    private static final RealModel MODEL = RealModel.transformer(8, 4, 8, 4, 2, Activation.GELU, true, 42);
    private static final DataSource DATA = SequenceData.forModel(MODEL, 2, 9);

    private static PipelineExecutor.StepResult run(Schedule s, Recompute policy) {
        return new PipelineExecutor(s, policy).run(MODEL.shards(MODEL.partition(s.stages())), DATA, 0, 0, 1);
    }

    @Test
    void stashHoldsWhatTheScheduleKeepsInFlight() {
        int p = 4;
        int m = 8;
        PipelineExecutor.StepResult gpipe = run(Schedules.gpipe(p, m), Recompute.NONE);
        assertThat(gpipe.peakInFlight()).containsExactly(8, 8, 8, 8);
        assertThat(gpipe.peakStash()).containsExactly(8, 8, 8, 8);
        // 1F1B: min(m, p − s) on stage s (Narayanan et al. 2021, §2.2)
        assertThat(run(Schedules.oneFOneB(p, m), Recompute.NONE).peakInFlight()).containsExactly(4, 3, 2, 1);
        // ZB-H1: the same min(m, p − s) awaiting B (Qi et al. 2023, §3.1) ...
        PipelineExecutor.StepResult zb = run(Schedules.zbH1(p, m), Recompute.NONE);
        assertThat(zb.peakInFlight()).containsExactly(4, 3, 2, 1);
        // ... but W lags B by s on stage s, so B's results wait for W: (p − s) + s = p entries on every stage
        assertThat(zb.peakStash()).containsExactly(4, 4, 4, 4);
    }

    @Test
    void tensorsTravelAsMessagesBetweenStages() {
        int p = 4;
        int m = 8;
        PipelineExecutor.StepResult r = run(Schedules.oneFOneB(p, m).withRecompute(), Recompute.FULL);
        // one activation forward and one gradient back per micro-batch and stage boundary
        assertThat(r.messages()).isEqualTo(2L * m * (p - 1));
        long tensorBytes = TensorCodec.encodedBytes(2 * 4, 8);
        assertThat(r.largestMessageBytes()).isEqualTo(tensorBytes);
        assertThat(r.messageBytes()).isEqualTo(r.messages() * tensorBytes);
        assertThat(TensorCodec.fitsFrame(r.largestMessageBytes())).isTrue();
        assertThat(r.order()).hasSize(Schedules.oneFOneB(p, m).withRecompute().size());
    }

    @Test
    void aDeadlockedScheduleIsReportedWithItsGrid() {
        Schedule bad = new Schedule("custom", 2, 1, 1, false, List.of(
                List.of(Action.b(0, 0), Action.f(0, 0)),
                List.of(Action.f(1, 0), Action.b(1, 0))));
        assertThatThrownBy(() -> run(bad, Recompute.NONE))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("deadlocks")
                .hasMessageContaining("rank 0 | 0B0 0F0");
    }

    @Test
    void fullRecomputationDropsTheForwardStateUntilR() {
        Schedule s = Schedules.gpipe(2, 2);
        // the same schedule without R under full recompute is refused up front
        assertThatThrownBy(() -> new PipelineExecutor(s, Recompute.FULL)).hasMessageContaining("gpipe.withRecompute()");
        // a hand-made schedule that forgets one R is caught at its B
        Schedule forgot = new Schedule("custom", 1, 1, 2, false, List.of(List.of(
                Action.f(0, 0), Action.f(0, 1), Action.r(0, 0), Action.b(0, 0), Action.b(0, 1))));
        assertThatThrownBy(() -> new PipelineExecutor(forgot, Recompute.FULL).run(
                RealModel.transformer(8, 4, 8, 1, 2, Activation.GELU, true, 1).shards(new Partition(List.of(1))),
                DATA, 0, 0, 1))
                .hasMessageContaining("B of micro-batch 1 under recompute=full needs an R first");
    }
}
