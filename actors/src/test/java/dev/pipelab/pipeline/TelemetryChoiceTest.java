package dev.pipelab.pipeline;

import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TelemetryChoiceTest {

    @Test
    void autoKeepsSpansUpToTheBoundAndSumsAbove() {
        Schedule small = Schedules.oneFOneB(4, 8); // 4 ranks x (16 actions + the optimizer), 2 replicas: 136 spans
        assertThat(TelemetryChoice.spansPerStep(small, 2)).isEqualTo(136);
        TelemetryChoice s = TelemetryChoice.of("auto", "scenario", small, 2, 20);
        assertThat(s.level()).isEqualTo(TelemetryLevel.SPANS);
        assertThat(s.reason()).isEqualTo("telemetry spans (auto: 2,720 compute spans in 20 steps, at most 1,000,000)");
        // the bound is on the run: the same step kept for long enough keeps the sums only
        assertThat(TelemetryChoice.of("auto", "scenario", small, 2, 7352).level()).isEqualTo(TelemetryLevel.SPANS);
        assertThat(TelemetryChoice.of("auto", "scenario", small, 2, 7353).level()).isEqualTo(TelemetryLevel.STEPS);

        Schedule large = Schedules.oneFOneB(64, 512); // 64 x (1024 + 1) x 4 replicas = 262,400 a step
        TelemetryChoice l = TelemetryChoice.of("auto", "scenario", large, 4, 4);
        assertThat(l.level()).isEqualTo(TelemetryLevel.STEPS);
        assertThat(l.reason()).isEqualTo("telemetry steps (auto: 1,049,600 compute spans in 4 steps, more than 1,000,000)");
    }

    @Test
    void anExplicitLevelIsTakenAsGiven() {
        Schedule large = Schedules.oneFOneB(64, 512);
        assertThat(TelemetryChoice.of("spans", "--telemetry", large, 4, 1))
                .isEqualTo(new TelemetryChoice(TelemetryLevel.SPANS, "telemetry spans (--telemetry)"));
        assertThat(TelemetryChoice.of("off", "scenario", large, 1, 1).level()).isEqualTo(TelemetryLevel.OFF);
        assertThatThrownBy(() -> TelemetryChoice.of("loud", "scenario", large, 1, 1))
                .hasMessageContaining("telemetry level must be off, steps or spans, got 'loud'");
    }
}
