package dev.pipelab.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class CollectivesTest {

    private static final LinkSpec IB = new LinkSpec("ib", 25e9, 5e-6);

    /**
     * docs/architecture.md, Cost model: {@code 2(d-1)/d · N / bandwidth + 2(d-1) · latency}, when d divides N. Every ring size d in
     * [2, 1024], each with the smallest and largest chunk of [1, 4e6] bytes and two seeded random chunks: 4092 cases.
     */
    @Test
    void ringAllReduceMatchesTheClosedForm() {
        Random random = new Random(0xC0_11EC7L);
        int cases = 0;
        for (int d = 2; d <= 1024; d++) {
            long[] chunks = {1, 4_000_000, random.nextLong(1, 4_000_001), random.nextLong(1, 4_000_001)};
            for (long chunk : chunks) {
                long n = chunk * d;
                double closed = 2.0 * (d - 1) / d * n / IB.bandwidthBytesPerSecond()
                        + 2.0 * (d - 1) * IB.latencySeconds();
                assertThat(Collectives.ringAllReduceSeconds(n, d, IB)).as("d=%d chunk=%d", d, chunk)
                        .isCloseTo(closed, within(closed * 1e-12));
                cases++;
            }
        }
        assertThat(cases).isEqualTo(1023 * 4);
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
