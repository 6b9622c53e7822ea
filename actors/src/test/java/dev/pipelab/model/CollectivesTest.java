package dev.pipelab.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class CollectivesTest {

    private static final LinkSpec IB = new LinkSpec("ib", 25e9, 5e-6);

    /** DESIGN §4: {@code 2(d-1)/d · N / bandwidth + 2(d-1) · latency}, when d divides N. */
    @Property(tries = 300)
    void ringAllReduceMatchesTheClosedForm(@ForAll @IntRange(min = 2, max = 1024) int d,
                                           @ForAll @LongRange(min = 1, max = 4_000_000) long chunk) {
        long n = chunk * d;
        double closed = 2.0 * (d - 1) / d * n / IB.bandwidthBytesPerSecond() + 2.0 * (d - 1) * IB.latencySeconds();
        assertThat(Collectives.ringAllReduceSeconds(n, d, IB)).isCloseTo(closed, within(closed * 1e-12));
    }

    @Test
    void isTheStepTimeAddedOneStepAtATime() {
        long n = 1_000_000_007L;
        int d = 6;
        double step = IB.latencySeconds() + (double) Collectives.ringChunkBytes(n, d) / IB.bandwidthBytesPerSecond();
        assertThat(Collectives.ringStepSeconds(n, d, IB)).isEqualTo(step);
        double sum = 0;
        for (int i = 0; i < 2 * (d - 1); i++) sum += step;
        assertThat(Collectives.ringAllReduceSeconds(n, d, IB)).isEqualTo(sum); // bit for bit
        double half = 0;
        for (int i = 0; i < d - 1; i++) half += step;
        assertThat(Collectives.reduceScatterSeconds(n, d, IB)).isEqualTo(half);
        assertThat(Collectives.allGatherSeconds(n, d, IB)).isEqualTo(half);
    }

    @Test
    void chunkIsRoundedUp() {
        assertThat(Collectives.ringChunkBytes(10, 4)).isEqualTo(3);
        assertThat(Collectives.ringChunkBytes(12, 4)).isEqualTo(3);
        assertThat(Collectives.ringChunkBytes(0, 4)).isZero();
    }

    @Test
    void oneRankOrAFreeLinkCostsNothing() {
        assertThat(Collectives.ringAllReduceSeconds(1_000_000, 1, IB)).isZero();
        assertThat(Collectives.allGatherSeconds(1_000_000, 1, IB)).isZero();
        assertThat(Collectives.ringAllReduceSeconds(1_000_000, 8, LinkSpec.FREE)).isZero();
    }

    /** The article's 4 GB of gradients (1e9 fp32) over a 2-rank PCIe Gen4 ring: 2·(1/2)·4e9/32e9 = 0.125 s. */
    @Test
    void twoRankRingMovesTheWholeBufferOnce() {
        LinkSpec pcie = new LinkSpec("pcie4", 32e9, 0);
        assertThat(Collectives.ringAllReduceSeconds(4_000_000_000L, 2, pcie)).isEqualTo(0.125);
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> Collectives.ringAllReduceSeconds(-1, 2, IB)).hasMessageContaining("bytes");
        assertThatThrownBy(() -> Collectives.ringAllReduceSeconds(1, 0, IB)).hasMessageContaining("ranks");
    }
}
