package dev.pipelab.clock;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClockTest {

    @Test
    void virtualTimeNeverEntersAStartTimeAndNeedsNoTimers() {
        Clock c = Clock.of(ClockMode.VIRTUAL, 1);
        assertThat(c.isVirtual()).isTrue();
        assertThat(Math.max(2.5, c.now(c.epoch()))).isEqualTo(2.5);
        assertThat(c.until(0, 1e9)).isEqualTo(Duration.ZERO);
    }

    @Test
    void wallTimeScalesByTheSpeed() {
        AtomicLong nanos = new AtomicLong(1_000_000_000L);
        WallClock c = new WallClock(100.0, nanos::get);
        long epoch = c.epoch();
        nanos.addAndGet(50_000_000L); // 50 ms of wall time = 5 emulated seconds
        assertThat(c.now(epoch)).isEqualTo(5.0);
        // emulated second 8 is 80 ms after the epoch: 30 ms from now
        assertThat(c.until(epoch, 8.0)).isEqualTo(Duration.ofMillis(30));
        assertThat(c.until(epoch, 1.0)).isEqualTo(Duration.ZERO);
        assertThatThrownBy(() -> new WallClock(0)).hasMessageContaining("speed must be finite and > 0, got 0.0");
    }
}
