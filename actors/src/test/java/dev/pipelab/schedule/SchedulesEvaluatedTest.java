package dev.pipelab.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The generators' bubble claims, measured by the analytic {@link Evaluator} with uniform stages and free links. */
class SchedulesEvaluatedTest {

    private static Timeline run(Schedule s, double f, double b, double w) {
        return Evaluator.evaluate(s, Collections.nCopies(s.stages(), StageCost.compute(f, b, w)), Network.free());
    }

    @Test
    void interleavedIdleFractionIsExactlyPMinus1OverVmPlusPMinus1() {
        // Narayanan et al. 2021 §2.2: the interleaved bubble is the 1F1B bubble divided by v
        for (int p = 1; p <= 8; p++) {
            for (int v = 2; v <= 4; v++) {
                for (int groups = 1; groups <= 4; groups++) {
                    int m = groups * p;
                    for (double ratio : new double[] {1, 2, 3}) {
                        Timeline t = run(Schedules.interleaved(p, v, m), 1, ratio, 0);
                        assertThat(t.bubbleFraction()).as("p=%d v=%d m=%d B/F=%s", p, v, m, ratio)
                                .isEqualTo((double) (p - 1) / (v * m + p - 1));
                    }
                }
            }
        }
        assertThat(run(Schedules.interleaved(4, 2, 8), 1, 2, 0).bubbleFraction()).isEqualTo(3.0 / 19);
    }

    @Test
    void zbH1BubbleIsPMinus1TimesFPlusBMinusWAThirdOf1F1BsWhenFBWAreEqual() {
        // Qi et al. 2023 §3.1: ZB-H1 idles (p-1)(T_F + T_B - T_W) per rank; 1F1B (B and W together) (p-1)(T_F + T_B + T_W)
        for (int p = 2; p <= 8; p++) {
            for (int m = p; m <= 3 * p; m += p) {
                Timeline zb = run(Schedules.zbH1(p, m), 1, 1, 1);
                Timeline oneFOneB = run(Schedules.oneFOneB(p, m), 1, 1, 1);
                assertThat(zb.stepTimeSeconds()).isEqualTo(3.0 * m + (p - 1));
                for (int r = 0; r < p; r++) {
                    assertThat(zb.idleSeconds(r)).as("p=%d m=%d rank %d", p, m, r).isEqualTo(p - 1.0);
                    assertThat(oneFOneB.idleSeconds(r)).isEqualTo(3.0 * (p - 1));
                }
                assertThat(zb.bubbleFraction()).isEqualTo((double) (p - 1) / (3 * m + p - 1));
            }
        }
    }

    @Test
    void zbH2NeverIdlesBetweenARanksFirstAndLastActionAndBeatsZbH1WhenWIsCheaperThanB() {
        for (int p = 2; p <= 8; p++) {
            int m = 2 * p;
            Timeline h2 = run(Schedules.zbH2(p, m), 1, 1, 1);
            Timeline h1 = run(Schedules.zbH1(p, m), 1, 1, 1);
            for (int r = 0; r < p; r++) {
                int last = h2.schedule().actions(r).size() - 1;
                assertThat(h2.end(r, last) - h2.start(r, 0)).as("p=%d rank %d", p, r).isEqualTo(h2.busySeconds(r));
            }
            // one isolated step still waits (p-1)·T_F for the last rank's first input, ZB-H1's bubble at T_F=T_B=T_W
            assertThat(h2.bubbleFraction()).isEqualTo(h1.bubbleFraction());
            Timeline h1w = run(Schedules.zbH1(p, m), 1, 1, 0.5);
            Timeline h2w = run(Schedules.zbH2(p, m), 1, 1, 0.5);
            assertThat(h1w.idleSeconds(0)).isEqualTo(1.5 * (p - 1));
            assertThat(h2w.idleSeconds(0)).isEqualTo(1.0 * (p - 1));
            assertThat(h2w.bubbleFraction()).isLessThan(h1w.bubbleFraction());
        }
    }

    @Test
    void evaluatorInFlightAgreesWithTheStaticCountWhenTheBackwardIsNotSplit() {
        for (Schedule s : List.of(Schedules.oneFOneB(4, 8), Schedules.gpipe(4, 8), Schedules.interleaved(4, 2, 8))) {
            Timeline t = run(s, 1, 1, 1);
            for (int r = 0; r < 4; r++) {
                assertThat(t.peakInFlight(r)).as("%s rank %d", s.name(), r).isEqualTo(InFlight.peakOnRank(s, r));
            }
        }
    }

    @Test
    void zbH1HoldsActivationsUntilWSoEveryRankPeaksAtP() {
        // The evaluator frees a micro-batch's stash when its W ends (StageCost), while InFlight counts F..B.
        // F..B, ZB-H1 equals 1F1B stage by stage; F..W, every rank holds p, i.e. 1F1B's peak (stage 0) and no
        // more, which is the paper's "same peak memory as 1F1B" (Qi et al. 2023 §3.1).
        Timeline t = run(Schedules.zbH1(4, 8), 1, 1, 1);
        for (int r = 0; r < 4; r++) {
            assertThat(InFlight.peak(Schedules.zbH1(4, 8), r)).isEqualTo(4 - r);
            assertThat(t.peakInFlight(r)).isEqualTo(4);
        }
    }
}
