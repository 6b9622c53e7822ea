package dev.pipelab.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class SchedulePropertiesTest {

    private static final List<Schedule> ALL = allSchedules();

    /**
     * Every schedule of {@link Schedules#NAMES} with p in [1, 16] ranks: m in [1, 64] micro-batches for the
     * single-chunk schedules; for interleaved, v in [2, 4] and every multiple of p up to the first one >= 64
     * (interleaved needs m a multiple of p); for dualpipev every m from 2p to 64 (it needs m >= 2p); zb-1p and
     * zb-2p built for T_B = 2 T_F = 2 T_W. 7 · 16 · 64 + 3 · 222 + 768 = 8602 schedules.
     */
    private static List<Schedule> allSchedules() {
        List<Schedule> all = new ArrayList<>();
        for (String name : Schedules.NAMES) {
            for (int p = 1; p <= 16; p++) {
                if (name.equals("interleaved")) {
                    int maxM = ((64 + p - 1) / p) * p;
                    for (int v = 2; v <= 4; v++) {
                        for (int m = p; m <= maxM; m += p) all.add(Schedules.interleaved(p, v, m));
                    }
                } else if (Schedules.V_SHAPED.contains(name)) {
                    for (int m = name.equals("dualpipev") ? 2 * p : 1; m <= 64; m++) all.add(Schedules.byName(name, p, 2, m));
                } else {
                    for (int m = 1; m <= 64; m++) all.add(Schedules.byName(name, p, 1, m, new PassTimes(1, 2, 1, 0)));
                }
            }
        }
        return List.copyOf(all);
    }

    private static String describe(Schedule s) {
        return String.format("%s p=%d v=%d m=%d", s.name(), s.ranks(), s.virtualStages(), s.microBatches());
    }

    @Test
    void enumerationCoversEveryNameAndTheCorners() {
        List<Schedule> all = ALL;
        assertThat(all).hasSize(7 * 16 * 64 + 3 * 222 + 768);
        assertThat(all).extracting(Schedule::name).containsAll(Schedules.NAMES);
        assertThat(all).extracting(SchedulePropertiesTest::describe)
                .contains("gpipe p=1 v=1 m=1", "gpipe p=16 v=1 m=64", "1f1b p=16 v=1 m=1", "zb-h2 p=1 v=1 m=64",
                        "interleaved p=1 v=2 m=1", "interleaved p=16 v=4 m=64", "interleaved p=3 v=3 m=66",
                        "zb-v p=16 v=2 m=1", "dualpipev p=16 v=2 m=32", "dualpipev p=1 v=2 m=2");
    }

    @Test
    void everyGeneratedScheduleIsValid() {
        for (Schedule s : ALL) {
            assertThat(ScheduleValidator.validate(s).problems()).as(describe(s)).isEmpty();
            assertThat(ScheduleValidator.validate(s.withRecompute()).problems()).as("%s with recompute", describe(s))
                    .isEmpty();
        }
    }

    @Test
    void everyGeneratedScheduleRoundTripsThroughText() {
        for (Schedule s : ALL) {
            assertThat(ScheduleText.parse(ScheduleText.format(s), "<test>")).as(describe(s)).isEqualTo(s);
        }
    }

    @Test
    void headerlessTextInfersTheShape() {
        for (Schedule s : ALL) {
            String in = describe(s);
            String rows = ScheduleText.format(s).lines().skip(1).map(line -> line + "\n")
                    .collect(Collectors.joining());
            Schedule back = ScheduleText.parse(rows, "<test>");
            assertThat(back.actionsByRank()).as(in).isEqualTo(s.actionsByRank());
            assertThat(back.ranks()).as(in).isEqualTo(s.ranks());
            assertThat(back.virtualStages()).as(in).isEqualTo(s.virtualStages());
            assertThat(back.microBatches()).as(in).isEqualTo(s.microBatches());
            assertThat(back.splitBackward()).as(in).isEqualTo(s.splitBackward());
            assertThat(back.name()).as(in).isEqualTo("custom");
        }
    }

    /** Exhaustive over p in [1, 16] and m in [1, 64], every stage s of each: 1024 (p, m) pairs. */
    @Test
    void inFlightPeaks() {
        for (int p = 1; p <= 16; p++) {
            for (int m = 1; m <= 64; m++) {
                Schedule oneFOneBSchedule = Schedules.oneFOneB(p, m);
                Schedule gpipe = Schedules.gpipe(p, m);
                Schedule zbH1 = Schedules.zbH1(p, m);
                for (int s = 0; s < p; s++) {
                    String in = String.format("p=%d m=%d s=%d", p, m, s);
                    int oneFOneB = InFlight.peak(oneFOneBSchedule, s);
                    assertThat(oneFOneB).as("1f1b %s", in).isEqualTo(Math.min(m, p - s));
                    assertThat(InFlight.peak(gpipe, s)).as("gpipe %s", in).isEqualTo(m);
                    assertThat(InFlight.peak(zbH1, s)).as("zb-h1 %s", in).isEqualTo(oneFOneB);
                }
            }
        }
    }

    /**
     * Exhaustive over p in [1, 8], v in [2, 4], m = groups · p with groups in [1, 4], and backward/forward time
     * ratio in [1, 3]: 288 cases.
     */
    @Test
    void interleavedIdleFractionIsExact() {
        for (int p = 1; p <= 8; p++) {
            for (int v = 2; v <= 4; v++) {
                for (int groups = 1; groups <= 4; groups++) {
                    for (int backwardOverForward = 1; backwardOverForward <= 3; backwardOverForward++) {
                        int m = groups * p;
                        double idle = UniformTimeline.of(Schedules.interleaved(p, v, m), 1, backwardOverForward, 0)
                                .idleFraction();
                        assertThat(idle).as("p=%d v=%d m=%d backward/forward=%d", p, v, m, backwardOverForward)
                                .isCloseTo((p - 1.0) / (v * m + p - 1), within(1e-12));
                    }
                }
            }
        }
    }
}
