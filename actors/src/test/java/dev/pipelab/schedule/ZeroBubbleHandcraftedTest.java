package dev.pipelab.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipelab.model.LinkSpec;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The statements of Qi et al. 2023 ("Zero Bubble Pipeline Parallelism", §2 and its comparison table) about ZB-H1
 * and ZB-H2, measured by the evaluator with unequal T_F, T_B, T_W, and the condition under which each holds. The
 * paper derives them with T_F = T_B = T_W and no communication time (§2); the grid finds where they stay exact.
 */
class ZeroBubbleHandcraftedTest {

    private static final double[] TIMES = {0.5, 1, 1.5, 2, 3};

    private static Timeline run(Schedule s, double f, double b, double w, double comm) {
        return Evaluator.evaluate(s, Collections.nCopies(s.ranks(), StageCost.compute(f, b, w)),
                Network.uniform(new LinkSpec("comm", Double.POSITIVE_INFINITY, comm)));
    }

    /** The longest first-action-to-last-action span over the ranks: a stage's work plus the paper's bubble. */
    private static double longestSpan(Timeline t) {
        double span = 0;
        for (int r = 0; r < t.ranks(); r++) {
            int last = t.schedule().actions(r).size() - 1;
            span = Math.max(span, t.end(r, last) - t.start(r, 0));
        }
        return span;
    }

    @Test
    void zbH1IdlesPMinus1TimesFPlusBMinusWExactlyWhenWIsTheShortestPassAndCommIsFree() {
        int exact = 0;
        int outside = 0;
        for (int p = 2; p <= 8; p++) {
            for (int m = p; m <= 4 * p; m += p / 2 + 1) {
                for (double f : TIMES) {
                    for (double b : TIMES) {
                        for (double w : TIMES) {
                            Timeline t = run(Schedules.zbH1(p, m), f, b, w, 0);
                            double paper = (p - 1) * (f + b - w);
                            // outside the condition the held-back W no longer fit the gaps: the shortest pass sets the bubble
                            double measured = (p - 1) * (f + b - Math.min(w, Math.min(f, b)));
                            boolean condition = w <= Math.min(f, b);
                            for (int r = 0; r < p; r++) {
                                String in = String.format("p=%d m=%d F=%s B=%s W=%s rank %d", p, m, f, b, w, r);
                                assertThat(t.idleSeconds(r)).as(in).isCloseTo(measured, within(1e-9));
                                if (condition) assertThat(t.idleSeconds(r)).as(in).isCloseTo(paper, within(1e-9));
                                else assertThat(t.idleSeconds(r)).as(in).isGreaterThan(paper + 1e-9);
                            }
                            if (condition) exact++;
                            else outside++;
                        }
                    }
                }
            }
        }
        assertThat(exact).isPositive();
        assertThat(outside).isPositive();
    }

    @Test
    void zbH1AndZbH2IdleMoreThanThePapersBubbleOnceMessagesTakeTime() {
        for (int p = 2; p <= 8; p++) {
            int m = 3 * p;
            for (double comm : new double[] {0.1, 0.5}) {
                Timeline h1 = run(Schedules.zbH1(p, m), 1, 1, 1, comm);
                Timeline h2 = run(Schedules.zbH2(p, m), 1, 1, 1, comm);
                for (int r = 0; r < p; r++) assertThat(h1.idleSeconds(r)).as("p=%d comm=%s", p, comm).isGreaterThan(p - 1.0);
                assertThat(longestSpan(h2) - 3.0 * m).as("p=%d comm=%s", p, comm).isPositive();
            }
        }
    }

    @Test
    void zbH2sLongestSpanExceedsAStagesWorkByPMinus1TimesFPlusBMinus2WWhenWIsTheShortestPass() {
        int exact = 0;
        for (int p = 2; p <= 8; p++) {
            for (int m = 2 * p - 1; m <= 4 * p; m += p / 2 + 1) {
                for (double f : TIMES) {
                    for (double b : TIMES) {
                        for (double w : TIMES) {
                            if (w > Math.min(f, b)) continue;
                            Timeline t = run(Schedules.zbH2(p, m), f, b, w, 0);
                            assertThat(longestSpan(t) - m * (f + b + w))
                                    .as("p=%d m=%d F=%s B=%s W=%s", p, m, f, b, w)
                                    .isCloseTo((p - 1) * (f + b - 2 * w), within(1e-9));
                            exact++;
                        }
                    }
                }
            }
        }
        assertThat(exact).isPositive();
        // with T_F = T_B = T_W that is zero: the paper's zero bubble, once m >= 2p-1 fills the warm-up
        assertThat(longestSpan(run(Schedules.zbH2(4, 7), 1, 1, 1, 0))).isEqualTo(21.0);
        assertThat(longestSpan(run(Schedules.zbH2(4, 6), 1, 1, 1, 0))).isGreaterThan(18.0);
    }

    @Test
    void peakActivationMemoryIsPForZbH1And2PMinus1ForZbH2WhateverTheTimes() {
        // §2.1: ZB-H1 keeps 1F1B's peak, p micro-batches; §2.2: ZB-H2 up to 2p-1, on stage 0 counting F to B
        for (int p = 1; p <= 8; p++) {
            for (int m = 1; m <= 4 * p; m++) {
                Schedule h1 = Schedules.zbH1(p, m);
                Schedule h2 = Schedules.zbH2(p, m);
                for (double[] r : List.of(new double[] {1, 1, 1, 0}, new double[] {1, 3, 0.5, 0.2}, new double[] {2, 1, 3, 1})) {
                    Timeline t1 = run(h1, r[0], r[1], r[2], r[3]);
                    Timeline t2 = run(h2, r[0], r[1], r[2], r[3]);
                    for (int s = 0; s < p; s++) {
                        String in = String.format("p=%d m=%d stage %d", p, m, s);
                        assertThat(t1.peakInFlight(s)).as("zb-h1 F..W %s", in).isEqualTo(Math.min(m, p));
                        assertThat(t2.peakInFlight(s)).as("zb-h2 F..W %s", in).isEqualTo(Math.min(m, 2 * p - 1));
                    }
                }
                for (int s = 0; s < p; s++) {
                    assertThat(InFlight.peak(h2, s)).as("zb-h2 F..B p=%d m=%d stage %d", p, m, s)
                            .isEqualTo(Math.min(m, 2 * (p - 1 - s) + 1));
                }
            }
        }
    }
}
