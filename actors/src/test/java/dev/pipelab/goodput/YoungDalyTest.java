package dev.pipelab.goodput;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class YoungDalyTest {

    @Test
    void theFirstOrderOptimumByHand() {
        // C = 100 s, MTBF = 5,000 s: tau = sqrt(2 x 100 x 5,000) = sqrt(1,000,000) = 1,000 s; at 4 s a step, 250 steps
        YoungDaly yd = new YoungDaly(100, 5000, 4);
        assertThat(yd.tauSeconds()).isEqualTo(1000.0);
        assertThat(yd.steps()).isEqualTo(250.0);
        // every 300 steps is 20% longer than the optimum, every 200 steps 20% shorter
        assertThat(yd.relativeGap(300)).isCloseTo(0.2, within(1e-15));
        assertThat(yd.relativeGap(200)).isCloseTo(-0.2, within(1e-15));
    }

    @Test
    void aLlamaSizedJob() {
        // a 4.86 TB checkpoint at 2 GB/s (2,430 s) and one failure every 2.78 h (10,008 s):
        // tau = sqrt(2 x 2,430 x 10,008) = sqrt(48,638,880) = 6,974.16 s
        YoungDaly yd = new YoungDaly(2430, 10008, 8);
        assertThat(yd.tauSeconds()).isCloseTo(6974.16, within(0.01));
        assertThat(yd.steps()).isCloseTo(871.77, within(0.01));
    }

    @Test
    void withoutFailuresTheOptimumIsNeverToCheckpoint() {
        assertThat(new YoungDaly(10, Double.POSITIVE_INFINITY, 1).steps()).isInfinite();
    }

    @Test
    void refusesWhatHasNoOptimum() {
        assertThatThrownBy(() -> new YoungDaly(0, 100, 1)).hasMessage("checkpointSeconds must be > 0, got 0.0");
        assertThatThrownBy(() -> new YoungDaly(1, 100, Double.NaN)).hasMessage("stepSeconds must be > 0, got NaN");
    }
}
