package dev.pipelab.goodput;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The central 95% ranges against SciPy's {@code scipy.stats.poisson.ppf(0.025 / 0.975, mean)}. */
class PoissonTest {

    @Test
    void rangesAgreeWithScipy() {
        assertThat(Poisson.range95(10)).isEqualTo(new Poisson.Range(4, 17));
        assertThat(Poisson.range95(466)).isEqualTo(new Poisson.Range(424, 509));
        assertThat(Poisson.range95(3.2)).isEqualTo(new Poisson.Range(0, 7));
        assertThat(Poisson.range95(0.5)).isEqualTo(new Poisson.Range(0, 2));
        // a mean whose e^-mean underflows a double: the summation in logarithms still finds it
        assertThat(Poisson.range95(1e6)).isEqualTo(new Poisson.Range(998_041, 1_001_960));
    }

    @Test
    void noRateNoCount() {
        assertThat(Poisson.range95(0)).isEqualTo(new Poisson.Range(0, 0));
    }

    @Test
    void stirlingMeetsTheSumWhereTheySwitch() {
        double sum = 0;
        for (int i = 2; i <= 64; i++) sum += Math.log(i);
        assertThat(Poisson.logFactorial(64)).isCloseTo(sum, within(1e-12));
    }
}
