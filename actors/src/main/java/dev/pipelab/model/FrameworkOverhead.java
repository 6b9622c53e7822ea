package dev.pipelab.model;

/**
 * Device memory a training process holds besides its tensors: the CUDA context with the framework's kernels, and
 * one set of NCCL buffers per communicator the rank joins. Invariant: the default is the measured context plus one
 * measured communicator per parallel group of more than one rank, nothing estimated.
 *
 * <ul>
 *   <li>CUDA context and kernels: 1,343 MiB, measured on the GPU right after the first tensor is moved to it
 *       (Hugging Face Transformers docs, "Model training anatomy": "the kernels alone take up 1.3GB"; 1–2 GB in
 *       general).</li>
 *   <li>NCCL: 688 MiB per communicator of more than two GPUs, measured per process group on 4 A100s with NVLink
 *       (NVIDIA/nccl issue #964; 544 MiB for two GPUs; more channels and algorithms use more, issue #986). A rank
 *       joins one per parallel dimension that has more than one rank: tensor, pipeline, data.</li>
 * </ul>
 * Allocator fragmentation (PyTorch's caching allocator) depends on the run and has no defensible default: it is not
 * in the default; a scenario that knows it sets {@code hardware.frameworkOverheadGB} to the total it measured.
 */
public final class FrameworkOverhead {

    private static final long MIB = 1L << 20;
    /** CUDA context and kernels (Hugging Face, "Model training anatomy"). */
    public static final long CUDA_CONTEXT_BYTES = 1343 * MIB;
    /** One NCCL communicator's buffers (NVIDIA/nccl issue #964). */
    public static final long NCCL_COMMUNICATOR_BYTES = 688 * MIB;

    private FrameworkOverhead() {}

    /** The default for a rank of a (p, d, t) plan: the context plus one communicator per dimension above 1. */
    public static long defaultBytes(int pipeline, int data, int tensor) {
        int communicators = (pipeline > 1 ? 1 : 0) + (data > 1 ? 1 : 0) + (tensor > 1 ? 1 : 0);
        return CUDA_CONTEXT_BYTES + communicators * NCCL_COMMUNICATOR_BYTES;
    }
}
