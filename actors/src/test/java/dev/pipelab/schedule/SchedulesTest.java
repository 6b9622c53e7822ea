package dev.pipelab.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchedulesTest {

    private static String row(Schedule s, int rank) {
        return ScheduleText.format(s).split("\n")[rank + 1];
    }

    @Test
    void gpipeAndOneFOneBKeepTheirOrder() {
        assertThat(ScheduleText.format(Schedules.gpipe(2, 3))).isEqualTo("""
                # name=gpipe p=2 v=1 m=3 split=false
                0F0 0F1 0F2 0B0 0B1 0B2
                1F0 1F1 1F2 1B0 1B1 1B2
                """);
        assertThat(ScheduleText.format(Schedules.oneFOneB(3, 4))).isEqualTo("""
                # name=1f1b p=3 v=1 m=4 split=false
                0F0 0F1 0F2 0B0 0F3 0B1 0B2 0B3
                1F0 1F1 1B0 1F2 1B1 1F3 1B2 1B3
                2F0 2B0 2F1 2B1 2F2 2B2 2F3 2B3
                """);
    }

    @Test
    void interleavedTakesMicroBatchesInGroupsOfPPerChunk() {
        Schedule s = Schedules.interleaved(4, 2, 8);
        // rank 0 warms up with (4-0-1)*2 + (2-1)*4 = 10 forwards: mb 0-3 on chunk 0 (stage 0), then on chunk 1
        // (stage 4), then mb 4-5 on chunk 0; its first backward is on the last chunk (stage 4).
        assertThat(row(s, 0)).startsWith("0F0 0F1 0F2 0F3 4F0 4F1 4F2 4F3 0F4 0F5 0F6 4B0 ");
        // the last rank warms up with (2-1)*4 = 4 forwards, then 1F1B; its first backward is its own stage 7
        assertThat(row(s, 3)).startsWith("3F0 3F1 3F2 3F3 7F0 7B0 7F1 7B1 ");
        assertThat(s.stages()).isEqualTo(8);
        assertThat(ScheduleValidator.validate(s).isValid()).isTrue();
    }

    @Test
    void interleavedRejectsMicroBatchesNotAMultipleOfThePipeline() {
        assertThatThrownBy(() -> Schedules.interleaved(4, 2, 10))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("interleaved needs microBatches (10) to be a multiple of pipeline (4)");
        assertThatThrownBy(() -> Schedules.interleaved(4, 1, 8))
                .hasMessageContaining("interleaved needs virtualStages >= 2, got 1");
    }

    @Test
    void zbH1FollowsThePapersStepPattern() {
        // Qi et al. 2023, Figure 3 top: stage i runs (F x, B x-(p-1-i), W x-(p-1))
        Schedule s = Schedules.zbH1(4, 8);
        assertThat(row(s, 0)).isEqualTo(
                "0F0 0F1 0F2 0F3 0B0 0W0 0F4 0B1 0W1 0F5 0B2 0W2 0F6 0B3 0W3 0F7 0B4 0W4 0B5 0W5 0B6 0W6 0B7 0W7");
        assertThat(row(s, 3)).isEqualTo(
                "3F0 3B0 3F1 3B1 3F2 3B2 3F3 3B3 3W0 3F4 3B4 3W1 3F5 3B5 3W2 3F6 3B6 3W3 3F7 3B7 3W4 3W5 3W6 3W7");
        assertThat(s.splitBackward()).isTrue();
    }

    @Test
    void zbH2WarmsUpWithTwiceTheForwards() {
        // Figure 3 bottom: stage i runs (F x, B x-2(p-1-i), W x-2(p-1)); stage 0 holds 2p-1 in flight
        Schedule s = Schedules.zbH2(4, 8);
        assertThat(row(s, 0)).startsWith("0F0 0F1 0F2 0F3 0F4 0F5 0F6 0B0 0W0 0F7 0B1 0W1 ");
        assertThat(row(s, 3)).endsWith("3F7 3B7 3W1 3W2 3W3 3W4 3W5 3W6 3W7");
        assertThat(InFlight.peak(s, 0)).isEqualTo(7);
    }

    @Test
    void byNameBuildsEachScenarioSchedule() {
        assertThat(Schedules.byName("gpipe", 4, 1, 8)).isEqualTo(Schedules.gpipe(4, 8));
        assertThat(Schedules.byName("1f1b", 4, 1, 8)).isEqualTo(Schedules.oneFOneB(4, 8));
        assertThat(Schedules.byName("interleaved", 4, 2, 8)).isEqualTo(Schedules.interleaved(4, 2, 8));
        assertThat(Schedules.byName("zb-h1", 4, 1, 8)).isEqualTo(Schedules.zbH1(4, 8));
        assertThat(Schedules.byName("zb-h2", 4, 1, 8)).isEqualTo(Schedules.zbH2(4, 8));
    }

    @Test
    void byNameRejectsBadCombinationsWithAClearMessage() {
        assertThatThrownBy(() -> Schedules.byName("pipedream", 4, 1, 8))
                .hasMessage("unknown schedule 'pipedream': expected one of gpipe, 1f1b, interleaved, zb-h1, zb-h2, zb-1p, zb-2p, zb-v, dualpipev");
        assertThatThrownBy(() -> Schedules.byName("1f1b", 4, 2, 8))
                .hasMessage("1f1b needs virtualStages 1, got 2 (only interleaved, zb-v and dualpipev use v >= 2)");
        assertThatThrownBy(() -> Schedules.byName("zb-v", 4, 1, 8))
                .hasMessage("zb-v needs virtualStages 2 (two stages per rank, placed as a V), got 1");
        assertThatThrownBy(() -> Schedules.byName("dualpipev", 4, 2, 7))
                .hasMessage("dualpipev needs microBatches >= 2 x pipeline (8), got 7");
        assertThatThrownBy(() -> Schedules.byName("interleaved", 4, 1, 8))
                .hasMessageContaining("interleaved needs virtualStages >= 2, got 1");
        assertThatThrownBy(() -> Schedules.byName("gpipe", 0, 1, 8))
                .hasMessage("pipeline (ranks) must be >= 1, got 0");
        assertThatThrownBy(() -> Schedules.byName("zb-h1", 4, 1, 0))
                .hasMessage("microBatches must be >= 1, got 0");
    }

    @Test
    void peakInFlightOfGpipeIsMAndOf1f1bIsMinMPMinusS() {
        for (int p : new int[] {1, 4, 7}) {
            for (int m : new int[] {1, 3, 8}) {
                for (int s = 0; s < p; s++) {
                    assertThat(InFlight.peak(Schedules.gpipe(p, m), s)).isEqualTo(m);
                    assertThat(InFlight.peak(Schedules.oneFOneB(p, m), s)).isEqualTo(Math.min(m, p - s));
                    assertThat(InFlight.peak(Schedules.zbH1(p, m), s)).isEqualTo(Math.min(m, p - s));
                    assertThat(InFlight.peak(Schedules.zbH2(p, m), s)).isEqualTo(Math.min(m, 2 * (p - 1 - s) + 1));
                }
            }
        }
    }

    // ---- bubbles, against an independent uniform-cost oracle (free links) ----

    @Test
    void gpipeAnd1f1bIdleFractionIsPMinus1OverMPlusPMinus1() {
        for (Schedule s : List.of(Schedules.gpipe(4, 8), Schedules.oneFOneB(4, 8))) {
            assertThat(UniformTimeline.of(s, 1, 2, 0).idleFraction()).isCloseTo(3.0 / 11, within(1e-12));
        }
    }

    @Test
    void interleavedIdleFractionIsPMinus1OverVmPlusPMinus1ForAnyBackwardToForwardRatio() {
        for (double ratio : new double[] {1, 2, 3, 0.5}) {
            assertThat(UniformTimeline.of(Schedules.interleaved(4, 2, 8), 1, ratio, 0).idleFraction())
                    .as("B/F = %s", ratio).isCloseTo(3.0 / 19, within(1e-12));
        }
    }

    @Test
    void zbH1BubbleIsPMinus1TimesFPlusBMinusW() {
        // Qi et al. 2023 §3.1: (p-1)(T_F + T_B - T_W) per stage, a third of 1F1B's when T_F = T_B = T_W
        int p = 4, m = 8;
        double[][] costs = {{1, 1, 1}, {1, 1, 0.5}, {1, 2, 1}, {2, 1, 1}};
        for (double[] c : costs) {
            UniformTimeline t = UniformTimeline.of(Schedules.zbH1(p, m), c[0], c[1], c[2]);
            double bubble = t.makespan() - m * (c[0] + c[1] + c[2]);
            assertThat(bubble).as("T_F, T_B, T_W = %s, %s, %s", c[0], c[1], c[2])
                    .isCloseTo((p - 1) * (c[0] + c[1] - c[2]), within(1e-12));
        }
        UniformTimeline oneFOneB = UniformTimeline.of(Schedules.oneFOneB(p, m), 1, 2, 0);
        assertThat(oneFOneB.makespan() - m * 3).isEqualTo(3 * (p - 1));
    }

    @Test
    void zbH2LeavesNoStageIdleBetweenItsFirstAndLastActionWhenFBWCostTheSame() {
        for (int p : new int[] {2, 4, 8}) {
            int m = 2 * p;
            UniformTimeline t = UniformTimeline.of(Schedules.zbH2(p, m), 1, 1, 1);
            for (int r = 0; r < p; r++) assertThat(t.innerIdle(r, 1, 1, 1)).as("p=%d rank %d", p, r).isZero();
            // one step still starts the last stage (p-1)·T_F late: the same makespan as ZB-H1 here
            assertThat(t.makespan()).isEqualTo(3 * m + p - 1);
        }
    }

    @Test
    void zbH2BubbleIsOnlyTheFillTimeSoItBeatsZbH1WhenTheWeightPassIsCheaper() {
        int p = 4, m = 8;
        UniformTimeline h1 = UniformTimeline.of(Schedules.zbH1(p, m), 1, 1, 0.5);
        UniformTimeline h2 = UniformTimeline.of(Schedules.zbH2(p, m), 1, 1, 0.5);
        assertThat(h1.makespan() - m * 2.5).isEqualTo(4.5); // (p-1)(T_F + T_B - T_W)
        assertThat(h2.makespan() - m * 2.5).isEqualTo(3.0); // (p-1)·T_F, the least any schedule can have
        assertThat(h2.idleFraction()).isLessThan(h1.idleFraction());
    }

    @Test
    void everyGeneratedScheduleOfTheGoldenSizesIsValid() {
        List<Schedule> all = new ArrayList<>();
        for (String name : Schedules.NAMES) {
            all.add(Schedules.byName(name, 4, name.equals("interleaved") || Schedules.V_SHAPED.contains(name) ? 2 : 1, 8, new PassTimes(1, 2, 1, 0)));
        }
        for (Schedule s : all) assertThat(ScheduleValidator.validate(s).problems()).as(s.name()).isEmpty();
    }
}
