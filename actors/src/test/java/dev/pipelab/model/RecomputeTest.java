package dev.pipelab.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RecomputeTest {

    @Test
    void parsesScenarioNamesAndRoundTrips() {
        assertThat(Recompute.parse("none")).contains(Recompute.NONE);
        assertThat(Recompute.parse("selective")).contains(Recompute.SELECTIVE);
        assertThat(Recompute.parse("full")).contains(Recompute.FULL);
        assertThat(Recompute.parse("FULL")).isEmpty();
        assertThat(Recompute.parse("")).isEmpty();
        for (Recompute r : Recompute.values()) assertThat(Recompute.parse(r.scenarioName())).contains(r);
    }
}
