package dev.pipelab.model;

import java.util.List;
import java.util.Optional;

/**
 * The catalog of interconnects. Invariant: bandwidth is the nominal rate per direction in bytes per
 * second (vendor figures; a link's "total" bidirectional figure is halved), defined exactly once.
 *
 * <p>Latencies are stated assumptions, not datasheet values: the one-way cost of a small message
 * including the communication library's software overhead, taken as a few microseconds on every fabric
 * listed (hardware port-to-port latency is around a microsecond; software adds the rest). Calibrate
 * them per cluster from a measured small-message run.
 */
public final class LinkPresets {

    private static final Catalog<LinkSpec> PRESETS = build();

    private LinkPresets() {
    }

    /** The preset named {@code name} (exact match), or empty. */
    public static Optional<LinkSpec> find(String name) {
        return PRESETS.find(name);
    }

    /** All preset names, sorted. */
    public static List<String> names() {
        return PRESETS.names();
    }

    private static Catalog<LinkSpec> build() {
        Catalog<LinkSpec> m = new Catalog<>(LinkSpec::name);
        // A100 datasheet: third-generation NVLink 600 GB/s total = 300 GB/s per direction.
        // Latency 2 µs: assumption.
        m.add(new LinkSpec("nvlink3", 300e9, 2e-6));
        // H100 SXM datasheet: fourth-generation NVLink 900 GB/s total = 450 GB/s per direction.
        // Latency 2 µs: assumption.
        m.add(new LinkSpec("nvlink4", 450e9, 2e-6));
        // PCI Express 4.0 x16: 16 GT/s × 16 lanes × 128/130 ≈ 31.5 GB/s per direction, rounded to 32e9
        // (PCI-SIG); the article's "4 GB through PCIe Gen4 ≥ 0.12 s" uses the same order.
        // Latency 5 µs: assumption (host-staged or P2P DMA plus software).
        m.add(new LinkSpec("pcie4", 32e9, 5e-6));
        // PCI Express 5.0 x16: 32 GT/s, ≈ 63 GB/s per direction, rounded to 64e9. Latency 5 µs: assumption.
        m.add(new LinkSpec("pcie5", 64e9, 5e-6));
        // InfiniBand HDR 200 Gb/s per port (NVIDIA ConnectX-6) = 25e9 B/s. Latency 5 µs: assumption
        // (switch and adapter are ~1 µs; the rest is software).
        m.add(new LinkSpec("ib-hdr", 25e9, 5e-6));
        // InfiniBand NDR 400 Gb/s per port (NVIDIA ConnectX-7) = 50e9 B/s. Latency 5 µs: assumption.
        m.add(new LinkSpec("ib-ndr", 50e9, 5e-6));
        // 800 Gb/s Ethernet (IEEE 802.3df; the article's 800G optical transceivers) = 100e9 B/s.
        // Latency 10 µs: assumption (RoCE through a switched Ethernet fabric).
        m.add(new LinkSpec("eth-800g", 100e9, 10e-6));
        m.add(LinkSpec.FREE);
        return m;
    }
}
