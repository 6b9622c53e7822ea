package dev.pipelab.model;

/**
 * An accelerator. Invariant: all numbers positive.
 *
 * @param name                           catalog name, {@code a100-80gb}
 * @param peakFlopsPerSecond             dense bf16/fp16 tensor-core peak (no sparsity)
 * @param memoryBytes                    device memory (decimal bytes as the vendor states them)
 * @param memoryBandwidthBytesPerSecond  device memory bandwidth
 * @param streamingMultiprocessors       SMs: the slots a GEMM's output tiles fill wave by wave ({@link Gemm})
 */
public record DeviceSpec(String name, double peakFlopsPerSecond, long memoryBytes, double memoryBandwidthBytesPerSecond,
                         int streamingMultiprocessors) {
    public DeviceSpec {
        if (!(peakFlopsPerSecond > 0)) throw new IllegalArgumentException("peakFlopsPerSecond must be > 0, got " + peakFlopsPerSecond);
        if (memoryBytes <= 0) throw new IllegalArgumentException("memoryBytes must be > 0, got " + memoryBytes);
        if (!(memoryBandwidthBytesPerSecond > 0)) {
            throw new IllegalArgumentException("memoryBandwidthBytesPerSecond must be > 0, got " + memoryBandwidthBytesPerSecond);
        }
        if (streamingMultiprocessors < 1) {
            throw new IllegalArgumentException("streamingMultiprocessors must be >= 1, got " + streamingMultiprocessors);
        }
    }
}
