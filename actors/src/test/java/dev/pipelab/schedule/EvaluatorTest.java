package dev.pipelab.schedule;

import dev.pipelab.model.LinkSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EvaluatorTest {

    private static List<StageCost> uniform(int stages, double f, double b, double w) {
        return Collections.nCopies(stages, StageCost.compute(f, b, w));
    }

    @Test
    void gpipeAndOneFOneBBubbleIsExactlyPMinusOneOverMPlusPMinusOneOverTheGrid() {
        // docs/architecture.md, Cost model: bubble = (p-1)/(m+p-1) for GPipe and 1F1B with uniform stages and free links.
        for (int p = 1; p <= 16; p++) {
            for (int m = 1; m <= 64; m++) {
                double expected = (double) (p - 1) / (m + p - 1);
                for (Schedule s : List.of(Schedules.gpipe(p, m), Schedules.oneFOneB(p, m))) {
                    Timeline t = Evaluator.evaluate(s, uniform(p, 1, 1, 1), Network.free());
                    assertThat(t.bubbleFraction()).as("%s p=%d m=%d", s.name(), p, m).isEqualTo(expected);
                    assertThat(t.stepTimeSeconds()).isEqualTo((m + p - 1) * 3.0);
                }
            }
        }
    }

    @Test
    void peakInFlightIsMForGpipeAndMinMPMinusSFor1F1B() {
        for (int p = 1; p <= 12; p++) {
            for (int m = 1; m <= 24; m++) {
                Timeline g = Evaluator.evaluate(Schedules.gpipe(p, m), uniform(p, 1, 2, 0), Network.free());
                Timeline o = Evaluator.evaluate(Schedules.oneFOneB(p, m), uniform(p, 1, 2, 0), Network.free());
                for (int s = 0; s < p; s++) {
                    assertThat(g.peakInFlight(s)).isEqualTo(m);
                    assertThat(o.peakInFlight(s)).as("p=%d m=%d s=%d", p, m, s).isEqualTo(Math.min(m, p - s));
                }
            }
        }
    }

    @Test
    void article4x8ScenariosGiveThreeElevenths() {
        Timeline g = Evaluator.evaluate(Schedules.gpipe(4, 8), uniform(4, 1, 2, 0), Network.free());
        Timeline o = Evaluator.evaluate(Schedules.oneFOneB(4, 8), uniform(4, 1, 2, 0), Network.free());
        assertThat(g.bubbleFraction()).isEqualTo(3.0 / 11);
        assertThat(o.bubbleFraction()).isEqualTo(3.0 / 11);
        assertThat(new int[] {o.peakInFlight(0), o.peakInFlight(1), o.peakInFlight(2), o.peakInFlight(3)})
                .containsExactly(4, 3, 2, 1);
    }

    @Test
    void linkTransferIsFifoAtLatencyPlusBytesOverBandwidth() {
        // p=2, m=2 GPipe, F=1, B=2; messages of 10 bytes over a 10 B/s link with 0.5 s latency.
        List<StageCost> stages = Collections.nCopies(2, new StageCost(1, 2, 0, 0, 10, 10, 0, 0, 0, RingAllReduce.NONE, 0));
        Timeline t = Evaluator.evaluate(Schedules.gpipe(2, 2), stages, Network.uniform(new LinkSpec("slow", 10, 0.5)));
        // rank 0: F0 [0,1] sends at 1, link busy to 2, arrives 2.5; F1 [1,2] sends at max(2,2)=2, arrives 3.5
        assertThat(t.start(0, 0)).isEqualTo(0.0);
        assertThat(t.arrival(0, 0)).isEqualTo(2.5);
        assertThat(t.transferStart(0, 1)).isEqualTo(2.0);
        assertThat(t.arrival(0, 1)).isEqualTo(3.5);
        // rank 1: F0 [2.5,3.5], F1 [3.5,4.5], B0 [4.5,6.5] sends at 6.5 arrives 8, B1 [6.5,8.5] -> arrives 10
        assertThat(t.start(1, 0)).isEqualTo(2.5);
        assertThat(t.start(1, 1)).isEqualTo(3.5);
        assertThat(t.end(1, 3)).isEqualTo(8.5);
        // rank 0: B0 [8,10], B1 [10,12]
        assertThat(t.start(0, 2)).isEqualTo(8.0);
        assertThat(t.end(0, 3)).isEqualTo(12.0);
        assertThat(t.stepTimeSeconds()).isEqualTo(12.0);
        assertThat(t.linkCount()).isEqualTo(2);
        assertThat(t.linkBytes(0) + t.linkBytes(1)).isEqualTo(40);
    }

    @Test
    void creditWindowStallsTheSenderAndBoundsInFlightMessages() {
        // a slow consumer: stage 1 takes 3 s per forward; with a 1-message buffer stage 0 must wait.
        List<StageCost> stages = List.of(new StageCost(1, 1, 0, 0, 1, 1, 0, 0, 0, RingAllReduce.NONE, 0),
                new StageCost(3, 1, 0, 0, 1, 1, 0, 0, 0, RingAllReduce.NONE, 0));
        Timeline unbounded = Evaluator.evaluate(Schedules.gpipe(2, 4), stages, Network.free());
        Timeline bounded = Evaluator.evaluate(Schedules.gpipe(2, 4), stages, Network.free(), 1);
        // unbounded: rank 0 runs F0..F3 back to back
        assertThat(unbounded.start(0, 3)).isEqualTo(3.0);
        // buffer 1: F(n) may start once stage 1 has started F(n-1): F1 at 1, F2 at 4, F3 at 7
        assertThat(bounded.start(0, 1)).isEqualTo(1.0);
        assertThat(bounded.start(0, 2)).isEqualTo(4.0);
        assertThat(bounded.start(0, 3)).isEqualTo(7.0);
        int forward = bounded.sendLink(0, 0);
        assertThat(bounded.linkStallSeconds(forward)).isEqualTo(2.0 + 2.0);
        // stage 1's own timing does not change: it is the bottleneck either way
        assertThat(bounded.stepTimeSeconds()).isEqualTo(unbounded.stepTimeSeconds());
    }

    @Test
    void consumerOrderThatContradictsTheLinkFifoDeadlocksWithOneBufferSlot() {
        List<List<Action>> rows = new ArrayList<>();
        rows.add(List.of(Action.f(0, 0), Action.f(0, 1), Action.b(0, 0), Action.b(0, 1)));
        rows.add(List.of(Action.f(1, 1), Action.f(1, 0), Action.b(1, 0), Action.b(1, 1)));
        Schedule s = new Schedule("custom", 2, 1, 2, false, rows);
        assertThat(Evaluator.evaluate(s, uniform(2, 1, 1, 0), Network.free()).stepTimeSeconds()).isEqualTo(7.0);
        assertThatThrownBy(() -> Evaluator.evaluate(s, uniform(2, 1, 1, 0), Network.free(), 1))
                .isInstanceOf(DeadlockException.class)
                .hasMessageContaining("rank 0 action #1 0F1: waits for credit on link 0->1 (buffer 1 full until 1F0 starts)")
                .hasMessageContaining("rank 1 action #0 1F1: waits for the activation of 0F1");
    }

    @Test
    void memoryCountsStaticBytesAndOneStashPerMicroBatchInFlight() {
        List<StageCost> stages = Collections.nCopies(4, new StageCost(1, 2, 0, 0, 0, 0, 100, 0, 1000, RingAllReduce.NONE, 0));
        Timeline t = Evaluator.evaluate(Schedules.oneFOneB(4, 8), stages, Network.free());
        for (int s = 0; s < 4; s++) assertThat(t.peakMemoryBytes(s)).isEqualTo(1000 + 100L * (4 - s));
        Timeline g = Evaluator.evaluate(Schedules.gpipe(4, 8), stages, Network.free());
        for (int s = 0; s < 4; s++) assertThat(g.peakMemoryBytes(s)).isEqualTo(1000 + 800);
    }

    @Test
    void recomputationRunsAsExplicitWorkAndHoldsItsBytesUntilTheBackwardEnds() {
        List<StageCost> stages = Collections.nCopies(2, new StageCost(1, 2, 0, 1, 0, 0, 10, 50, 0, RingAllReduce.NONE, 0));
        Timeline t = Evaluator.evaluate(Schedules.oneFOneB(2, 2).withRecompute(), stages, Network.free());
        // each rank does 2 F (1 s), 2 R (1 s), 2 B (2 s) = 8 s of work
        assertThat(t.busySeconds(0)).isEqualTo(8.0);
        assertThat(t.busySeconds(1)).isEqualTo(8.0);
        // rank 0: F0 F1 R0 B0 R1 B1 -> peak 10 + 10 + 50
        assertThat(t.peakMemoryBytes(0)).isEqualTo(70);
        // rank 1: F0 R0 B0 F1 R1 B1 -> peak 10 + 50
        assertThat(t.peakMemoryBytes(1)).isEqualTo(60);
    }

    @Test
    void allReduceStartsWhenAStagesBackwardIsDoneAndTheOptimizerFollows() {
        List<StageCost> stages = Collections.nCopies(2, new StageCost(1, 2, 0, 0, 0, 0, 0, 0, 0, RingAllReduce.fixed(5), 1));
        Timeline t = Evaluator.evaluate(Schedules.oneFOneB(2, 1), stages, Network.free());
        // rank0 F [0,1], rank1 F [1,2] B [2,4], rank0 B [4,6]
        assertThat(t.allReduceStart(1)).isEqualTo(4.0);
        assertThat(t.allReduceEnd(1)).isEqualTo(9.0);
        assertThat(t.allReduceStart(0)).isEqualTo(6.0);
        assertThat(t.optimizerStart(1)).isEqualTo(9.0);
        assertThat(t.optimizerEnd(0)).isEqualTo(12.0);
        assertThat(t.stepTimeSeconds()).isEqualTo(12.0);
        assertThat(t.busySeconds(0)).isEqualTo(4.0);
    }

    @Test
    void splitBackwardSchedulesFreeTheStashAfterW() {
        List<List<Action>> rows = List.of(
                List.of(Action.f(0, 0), Action.f(0, 1), Action.b(0, 0), Action.b(0, 1), Action.w(0, 0), Action.w(0, 1)),
                List.of(Action.f(1, 0), Action.b(1, 0), Action.w(1, 0), Action.f(1, 1), Action.b(1, 1), Action.w(1, 1)));
        Schedule s = new Schedule("custom", 2, 1, 2, true, rows);
        List<StageCost> stages = Collections.nCopies(2, new StageCost(1, 1, 1, 0, 0, 0, 7, 0, 0, RingAllReduce.NONE, 0));
        Timeline t = Evaluator.evaluate(s, stages, Network.free());
        assertThat(t.peakMemoryBytes(0)).isEqualTo(14);
        assertThat(t.peakMemoryBytes(1)).isEqualTo(7);
        assertThat(t.busySeconds(0)).isEqualTo(6.0);
    }
}
