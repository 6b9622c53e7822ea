package dev.pipelab.model;

/**
 * One kernel of a training step on one device: its FLOPs, the bytes it moves through device memory, and, for a
 * GEMM, the output tiles it splits into. Invariant: its time on a device is the roofline
 * {@code max(flops / (peak · quantization), bytes / memory bandwidth)} (Williams et al. 2009, "Roofline"), where
 * quantization is the fraction of the tile slots of its waves that hold useful output (1 for a memory-bound op).
 *
 * <p>Tile and wave quantization after NVIDIA's Deep Learning Performance Guide, "Matrix Multiplication Background"
 * (§ Tile Quantization, § Wave Quantization): cuBLAS splits a GEMM's {@code m x n} output into tiles (the guide's
 * A100 examples use 256 x 128, the most efficient tile), each SM computes one tile at a time, so a GEMM runs in
 * {@code ceil(tiles / SMs)} waves; a partial last wave and partial edge tiles do work at full cost for part of
 * the output.
 *
 * @param name     what the kernel computes ({@code qkv}, {@code softmax}, ...)
 * @param flops    floating-point operations (multiply-add = 2)
 * @param bytes    bytes read and written in device memory (bf16 tensors 2 bytes, dropout masks 1 byte per element)
 * @param tiles    output tiles (0 for a memory-bound op)
 * @param tileFill useful fraction of those tiles' elements ({@code m·n / (tiles · 256·128)}; 1 for a memory op)
 */
public record Op(String name, double flops, double bytes, long tiles, double tileFill) {

    /** Output tile rows (along m, the tokens) of cuBLAS's most efficient A100 tile (NVIDIA, Matrix Multiplication Background). */
    public static final int TILE_M = 256;
    /** Output tile columns (along n). */
    public static final int TILE_N = 128;
    /** Bytes per element of the bf16 activations and weights. */
    static final int BF16 = 2;

    public Op {
        if (!(flops >= 0) || !(bytes >= 0)) throw new IllegalArgumentException(name + ": flops and bytes must be >= 0");
        if (tiles < 0 || !(tileFill > 0 && tileFill <= 1)) throw new IllegalArgumentException(name + ": tiles >= 0, tileFill in (0, 1]");
    }

    /**
     * {@code batch} GEMMs {@code C[m x n] = A[m x k] · B[k x n]} in bf16: {@code 2·batch·m·n·k} FLOPs; A and B read
     * once and C written once ({@code 2·batch·(mk + kn + mn)} bytes, the roofline's lower bound on traffic).
     */
    public static Op gemm(String name, long batch, long m, long n, long k) {
        long tiles = batch * ceilDiv(m, TILE_M) * ceilDiv(n, TILE_N);
        double fill = (double) m * n / ((double) ceilDiv(m, TILE_M) * TILE_M * ceilDiv(n, TILE_N) * TILE_N);
        return new Op(name, 2.0 * batch * m * n * k, (double) BF16 * batch * (m * k + k * n + m * n), tiles, fill);
    }

    /** A memory-bound (element-wise or reduction) kernel: {@code bytes} through device memory, no tensor-core work. */
    public static Op memory(String name, double bytes) {
        return new Op(name, 0, bytes, 0, 1);
    }

    /**
     * Useful fraction of the tensor-core time: {@code tileFill · tiles / (waves · SMs)}, waves = {@code ceil(tiles / SMs)}.
     * 1 for a memory-bound op.
     */
    public double quantization(DeviceSpec device) {
        if (tiles == 0) return 1.0;
        long sms = device.streamingMultiprocessors();
        long waves = ceilDiv(tiles, sms);
        return tileFill * tiles / ((double) waves * sms);
    }

    /** Seconds on {@code device} at full speed (the scenario's efficiency divides it): the roofline of the class comment. */
    public double seconds(DeviceSpec device) {
        double compute = flops == 0 ? 0 : flops / (device.peakFlopsPerSecond() * quantization(device));
        double memory = bytes / device.memoryBandwidthBytesPerSecond();
        return Math.max(compute, memory);
    }

    static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }
}
