package dev.pipelab.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DevicePresetsTest {

    @Test
    void namesAreSortedAndComplete() {
        assertThat(DevicePresets.names()).containsExactly(
                "a100-40gb", "a100-80gb", "h100-80gb", "h200-141gb", "rtx4090-24gb", "v100-32gb");
        assertThat(DevicePresets.find("h100")).isEmpty();
    }

    @Test
    void datasheetNumbers() {
        assertThat(DevicePresets.find("a100-80gb").orElseThrow())
                .isEqualTo(new DeviceSpec("a100-80gb", 312e12, 80_000_000_000L, 2039e9, 108));
        assertThat(DevicePresets.find("a100-40gb").orElseThrow().memoryBytes()).isEqualTo(40_000_000_000L);
        assertThat(DevicePresets.find("h100-80gb").orElseThrow().peakFlopsPerSecond()).isEqualTo(989e12);
        DeviceSpec h200 = DevicePresets.find("h200-141gb").orElseThrow();
        assertThat(h200.memoryBytes()).isEqualTo(141_000_000_000L);
        assertThat(h200.memoryBandwidthBytesPerSecond()).isEqualTo(4.8e12);
        assertThat(DevicePresets.find("rtx4090-24gb").orElseThrow().peakFlopsPerSecond()).isEqualTo(330e12);
        assertThat(DevicePresets.find("v100-32gb").orElseThrow().peakFlopsPerSecond()).isEqualTo(125e12);
        assertThat(DevicePresets.find("h100-80gb").orElseThrow().streamingMultiprocessors()).isEqualTo(132);
        assertThat(DevicePresets.find("v100-32gb").orElseThrow().streamingMultiprocessors()).isEqualTo(80);
    }

    /** The article: 1850 GB in total needs at least 24 A100/H100 (80 GB) or 78 RTX 4090 (24 GB) cards. */
    @Test
    void theArticlesDeviceCounts() {
        double total = 1850e9;
        assertThat(Math.ceil(total / DevicePresets.find("a100-80gb").orElseThrow().memoryBytes())).isEqualTo(24);
        assertThat(Math.ceil(total / DevicePresets.find("h100-80gb").orElseThrow().memoryBytes())).isEqualTo(24);
        assertThat(Math.ceil(total / DevicePresets.find("rtx4090-24gb").orElseThrow().memoryBytes())).isEqualTo(78);
    }

    /** The article: 8 · 4096 · 6 · 1e9 = 196 TFLOP per layer-step "would only take 0.6 seconds" on a 4090. */
    @Test
    void theArticlesRtx4090ComputeTime() {
        double flops = 8.0 * 4096 * 6 * 1e9;
        double seconds = flops / DevicePresets.find("rtx4090-24gb").orElseThrow().peakFlopsPerSecond();
        assertThat(seconds).isBetween(0.59, 0.60);
    }
}
