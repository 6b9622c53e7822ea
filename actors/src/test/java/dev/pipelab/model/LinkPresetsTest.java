package dev.pipelab.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LinkPresetsTest {

    @Test
    void namesAreSortedAndComplete() {
        assertThat(LinkPresets.names()).containsExactly(
                "eth-800g", "free", "ib-hdr", "ib-ndr", "nvlink3", "nvlink4", "pcie4", "pcie5");
    }

    @Test
    void bandwidthPerDirectionInBytes() {
        assertThat(bw("nvlink3")).isEqualTo(300e9);
        assertThat(bw("nvlink4")).isEqualTo(450e9);
        assertThat(bw("pcie4")).isEqualTo(32e9);
        assertThat(bw("pcie5")).isEqualTo(64e9);
        assertThat(bw("ib-hdr")).isEqualTo(200e9 / 8);
        assertThat(bw("ib-ndr")).isEqualTo(400e9 / 8);
        assertThat(bw("eth-800g")).isEqualTo(800e9 / 8);
        assertThat(LinkPresets.find("free")).contains(LinkSpec.FREE);
    }

    @Test
    void latenciesAreAFewMicroseconds() {
        for (String name : LinkPresets.names()) {
            if (name.equals("free")) continue;
            assertThat(LinkPresets.find(name).orElseThrow().latencySeconds()).as(name).isBetween(1e-6, 10e-6);
        }
    }

    /** The article: "transferring this 4 GB of data through PCIe Gen4 alone would already take at least 0.12 s". */
    @Test
    void theArticlesPcie4Transfer() {
        double seconds = LinkPresets.find("pcie4").orElseThrow().occupancySeconds(4_000_000_000L);
        assertThat(seconds).isEqualTo(0.125);
    }

    private static double bw(String name) {
        return LinkPresets.find(name).orElseThrow().bandwidthBytesPerSecond();
    }
}
