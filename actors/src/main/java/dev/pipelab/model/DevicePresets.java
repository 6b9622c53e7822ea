package dev.pipelab.model;

import java.util.List;
import java.util.Optional;

/**
 * The catalog of accelerators. Invariant: every number is the vendor's datasheet value (dense, no
 * sparsity; memory in decimal bytes as stated, 80 GB = 80e9 bytes) and is defined exactly once.
 */
public final class DevicePresets {

    private static final Catalog<DeviceSpec> PRESETS = build();

    private DevicePresets() {
    }

    /** The preset named {@code name} (exact match), or empty. */
    public static Optional<DeviceSpec> find(String name) {
        return PRESETS.find(name);
    }

    /** All preset names, sorted. */
    public static List<String> names() {
        return PRESETS.names();
    }

    private static Catalog<DeviceSpec> build() {
        Catalog<DeviceSpec> m = new Catalog<>(DeviceSpec::name);
        // NVIDIA A100 Tensor Core GPU datasheet (2021): BF16 tensor 312 TFLOPS dense (624 with
        // sparsity); A100 40GB SXM HBM2 1,555 GB/s; A100 80GB SXM HBM2e 2,039 GB/s. NVIDIA A100 Tensor Core
        // GPU Architecture whitepaper (2020), Table 1 / "A100 GPU streaming multiprocessor": 108 SMs.
        m.add(new DeviceSpec("a100-40gb", 312e12, 40_000_000_000L, 1555e9, 108));
        m.add(new DeviceSpec("a100-80gb", 312e12, 80_000_000_000L, 2039e9, 108));
        // NVIDIA H100 datasheet, SXM5: BF16 tensor 1,979 TFLOPS with sparsity = 989 dense; 80 GB HBM3
        // at 3.35 TB/s. NVIDIA H100 Tensor Core GPU Architecture whitepaper (2022), "H100 SXM5": 132 SMs.
        m.add(new DeviceSpec("h100-80gb", 989e12, 80_000_000_000L, 3.35e12, 132));
        // NVIDIA H200 datasheet, SXM: same compute as H100 SXM (989 TFLOPS BF16 dense); 141 GB HBM3e
        // at 4.8 TB/s. The same GH100 chip as H100 SXM5: 132 SMs (H100 architecture whitepaper).
        m.add(new DeviceSpec("h200-141gb", 989e12, 141_000_000_000L, 4.8e12, 132));
        // NVIDIA Ada Lovelace architecture whitepaper, Appendix A (GeForce RTX 4090): FP16 tensor with
        // FP16 accumulate 330.3 TFLOPS dense — the figure the article's "0.6 seconds" assumes; with
        // FP32 accumulate (what BF16 training uses) it is 165.2 TFLOPS. 24 GB GDDR6X at 1,008 GB/s; 128 SMs
        // (same Appendix A).
        m.add(new DeviceSpec("rtx4090-24gb", 330e12, 24_000_000_000L, 1008e9, 128));
        // NVIDIA V100 datasheet, SXM2: 125 TFLOPS FP16 tensor (no BF16); 32 GB HBM2 at 900 GB/s. NVIDIA Tesla
        // V100 GPU Architecture whitepaper (2017), Table 1: 80 SMs.
        m.add(new DeviceSpec("v100-32gb", 125e12, 32_000_000_000L, 900e9, 80));
        return m;
    }
}
