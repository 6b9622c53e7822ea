package dev.pipelab.fault;

import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The seeded Poisson stream of interruptions: rates, the mix, where they land, determinism. */
class FaultDrawsTest {

    private static RandomFaults rates(long seed) {
        return new RandomFaults(seed, 1.0, Optional.empty(), 0, List.of(
                new RandomFaults.Rate(RandomFaults.Kind.GPU, 0.01, Double.NaN, Double.NaN, 0),
                new RandomFaults.Rate(RandomFaults.Kind.HOST, 0.02, Double.NaN, Double.NaN, 0),
                new RandomFaults.Rate(RandomFaults.Kind.SOFTWARE, 0.5, Double.NaN, Double.NaN, 0)), Optional.empty());
    }

    @Test
    void theRatesAddUpPerUnitOfTheKindsLevel() {
        // 2 replicas x 4 ranks x 2 devices = 16 devices, 4 nodes of 4
        RandomFaults r = rates(1);
        RandomFaults.Size size = new RandomFaults.Size(16, 4);
        assertThat(r.perSecond(RandomFaults.Kind.GPU, size)).isEqualTo(0.01 * 16 / 3600);
        assertThat(r.perSecond(RandomFaults.Kind.HOST, size)).isEqualTo(0.02 * 4 / 3600);
        assertThat(r.perSecond(RandomFaults.Kind.SOFTWARE, size)).isEqualTo(0.5 / 3600);
        assertThat(r.mtbfSeconds(size)).isEqualTo(3600 / (0.16 + 0.08 + 0.5), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(new FaultDraws(r, 2, 4, 2, 4).size()).isEqualTo(size);
    }

    @Test
    void countsAndMixFollowTheRatesWithinPoissonNoise() {
        RandomFaults r = rates(7);
        double hours = 20_000;
        List<FaultDraws.Draw> d = FaultDraws.until(r, 2, 4, 2, 4, hours * 3600);
        double expected = 0.74 * hours; // 14,800
        assertThat((double) d.size()).isBetween(expected - 4 * Math.sqrt(expected), expected + 4 * Math.sqrt(expected));
        Map<RandomFaults.Kind, Integer> byKind = new EnumMap<>(RandomFaults.Kind.class);
        for (FaultDraws.Draw x : d) byKind.merge(x.kind(), 1, Integer::sum);
        double gpu = 0.16 * hours;
        assertThat((double) byKind.get(RandomFaults.Kind.GPU)).isBetween(gpu - 4 * Math.sqrt(gpu), gpu + 4 * Math.sqrt(gpu));
        for (int i = 1; i < d.size(); i++) assertThat(d.get(i).atSeconds()).isGreaterThan(d.get(i - 1).atSeconds());
    }

    @Test
    void aDrawLandsOnTheStageOfItsDeviceOrNode() {
        for (FaultDraws.Draw x : FaultDraws.until(rates(3), 2, 4, 2, 4, 2_000 * 3600.0)) {
            long stage = (long) x.replica() * 4 + x.rank();
            switch (x.kind().level()) {
                case DEVICE -> assertThat(stage).isEqualTo(x.unit() / 2);
                case NODE -> assertThat(stage).isEqualTo(x.unit() * 4 / 2);
                case JOB -> assertThat(stage).isBetween(0L, 7L);
            }
            assertThat(x.fault(9).target()).isEqualTo(new FaultTarget.Stage(x.replica(), x.rank()));
            assertThat(x.fault(9).kind()).isEqualTo(FaultKind.STAGE_CRASH);
        }
    }

    @Test
    void theSameSeedDrawsTheSameSequenceAndAnotherSeedAnother() {
        List<FaultDraws.Draw> a = FaultDraws.until(rates(5), 2, 4, 2, 4, 500 * 3600.0);
        assertThat(FaultDraws.until(rates(5), 2, 4, 2, 4, 500 * 3600.0)).isEqualTo(a);
        assertThat(FaultDraws.until(rates(6), 2, 4, 2, 4, 500 * 3600.0)).isNotEqualTo(a);
    }

    @Test
    void mtbfAndWeightsSplitTheJobsRate() {
        RandomFaults r = new RandomFaults(1, 10, Optional.of(2.0), 0, List.of(
                new RandomFaults.Rate(RandomFaults.Kind.GPU, Double.NaN, 0.75, Double.NaN, 0),
                new RandomFaults.Rate(RandomFaults.Kind.NETWORK, Double.NaN, 0.25, Double.NaN, 0)), Optional.empty());
        RandomFaults.Size any = new RandomFaults.Size(1000, 100);
        assertThat(r.mtbfSeconds(any)).isEqualTo(720, org.assertj.core.data.Offset.offset(1e-9)); // 2 h / 10
        assertThat(r.perSecond(RandomFaults.Kind.GPU, any)).isEqualTo(10 * 0.75 / 7200);
    }
}
