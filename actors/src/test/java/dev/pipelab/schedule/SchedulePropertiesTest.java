package dev.pipelab.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class SchedulePropertiesTest {

    @Provide
    Arbitrary<Schedule> schedules() {
        Arbitrary<Integer> p = Arbitraries.integers().between(1, 16);
        Arbitrary<Integer> m = Arbitraries.integers().between(1, 64);
        Arbitrary<Integer> v = Arbitraries.integers().between(2, 4);
        Arbitrary<String> name = Arbitraries.of(Schedules.NAMES);
        return Combinators.combine(name, p, v, m).as((n, pp, vv, mm) -> n.equals("interleaved")
                // interleaved needs m a multiple of p: round m up to one
                ? Schedules.interleaved(pp, vv, ((mm + pp - 1) / pp) * pp)
                : Schedules.byName(n, pp, 1, mm));
    }

    @Property(tries = 300)
    void everyGeneratedScheduleIsValid(@ForAll("schedules") Schedule s) {
        assertThat(ScheduleValidator.validate(s).problems()).isEmpty();
        assertThat(ScheduleValidator.validate(s.withRecompute()).problems()).isEmpty();
    }

    @Property(tries = 300)
    void everyGeneratedScheduleRoundTripsThroughText(@ForAll("schedules") Schedule s) {
        assertThat(ScheduleText.parse(ScheduleText.format(s), "<test>")).isEqualTo(s);
    }

    @Property(tries = 200)
    void headerlessTextInfersTheShape(@ForAll("schedules") Schedule s) {
        String rows = ScheduleText.format(s).lines().skip(1).reduce("", (a, b) -> a + b + "\n");
        Schedule back = ScheduleText.parse(rows, "<test>");
        assertThat(back.actionsByRank()).isEqualTo(s.actionsByRank());
        assertThat(back.ranks()).isEqualTo(s.ranks());
        assertThat(back.virtualStages()).isEqualTo(s.virtualStages());
        assertThat(back.microBatches()).isEqualTo(s.microBatches());
        assertThat(back.splitBackward()).isEqualTo(s.splitBackward());
        assertThat(back.name()).isEqualTo("custom");
    }

    @Property(tries = 200)
    void inFlightPeaks(@ForAll @IntRange(min = 1, max = 16) int p, @ForAll @IntRange(min = 1, max = 64) int m) {
        for (int s = 0; s < p; s++) {
            int oneFOneB = InFlight.peak(Schedules.oneFOneB(p, m), s);
            assertThat(oneFOneB).isEqualTo(Math.min(m, p - s));
            assertThat(InFlight.peak(Schedules.gpipe(p, m), s)).isEqualTo(m);
            assertThat(InFlight.peak(Schedules.zbH1(p, m), s)).isEqualTo(oneFOneB);
        }
    }

    @Property(tries = 100)
    void interleavedIdleFractionIsExact(@ForAll @IntRange(min = 1, max = 8) int p,
                                        @ForAll @IntRange(min = 2, max = 4) int v,
                                        @ForAll @IntRange(min = 1, max = 4) int groups,
                                        @ForAll @IntRange(min = 1, max = 3) int backwardOverForward) {
        int m = groups * p;
        double idle = UniformTimeline.of(Schedules.interleaved(p, v, m), 1, backwardOverForward, 0).idleFraction();
        assertThat(idle).isCloseTo((p - 1.0) / (v * m + p - 1), within(1e-12));
    }
}
