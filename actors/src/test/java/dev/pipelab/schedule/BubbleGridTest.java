package dev.pipelab.schedule;

import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The textbook bubble over the whole grid the issue names (p 1..16, m 1..64), for the interleaved schedule
 * too: (p-1)/(v·m + p-1) (Narayanan et al. 2021 §2.2.2) for every m that is a multiple of p.
 */
class BubbleGridTest {

    @Test
    void interleavedBubbleIsExactOverTheGrid() {
        int cases = 0;
        for (int p = 1; p <= 16; p++) {
            for (int m = p; m <= 64; m += p) {
                for (int v = 2; v <= 4; v++) {
                    Schedule s = Schedules.interleaved(p, v, m);
                    // uniform model stages: each chunk does F=1, B=2 (so a rank's work per micro-batch is 3·v)
                    Timeline t = Evaluator.evaluate(s, Collections.nCopies(p * v, StageCost.compute(1, 2, 0)), Network.free());
                    assertThat(t.bubbleFraction()).as("p=%d v=%d m=%d", p, v, m).isEqualTo((double) (p - 1) / (v * m + p - 1));
                    assertThat(t.stepTimeSeconds()).as("p=%d v=%d m=%d", p, v, m).isEqualTo(3.0 * (v * m + p - 1));
                    cases++;
                }
            }
        }
        assertThat(cases).isEqualTo(3 * IntStream.rangeClosed(1, 16).map(p -> 64 / p).sum());
    }

    @Test
    void zeroBubbleH1HasThePapersBubbleWithEqualPasses() {
        // Qi et al. 2023 §3.1: ZB-H1's bubble is (p-1)(T_F + T_B - T_W), a third of 1F1B's when T_F = T_B = T_W
        for (int p = 1; p <= 16; p++) {
            for (int m = p; m <= 64; m++) {
                Timeline zb = Evaluator.evaluate(Schedules.zbH1(p, m), Collections.nCopies(p, StageCost.compute(1, 1, 1)), Network.free());
                Timeline ofob = Evaluator.evaluate(Schedules.oneFOneB(p, m), Collections.nCopies(p, StageCost.compute(1, 1, 1)), Network.free());
                for (int r = 0; r < p; r++) {
                    assertThat(zb.idleSeconds(r)).as("p=%d m=%d rank %d", p, m, r).isEqualTo(p - 1.0);
                    assertThat(ofob.idleSeconds(r)).isEqualTo(3.0 * (p - 1));
                    assertThat(zb.peakInFlight(r)).isLessThanOrEqualTo(p);
                }
            }
        }
    }
}
