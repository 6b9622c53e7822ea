package dev.pipelab.model;

/**
 * Parameters, FLOPs, bytes and communication of one decoder layer and the embedding/output layers, per
 * micro-batch of {@code b} sequences and per tensor-parallel rank. Invariant: {@code layerBackwardInputFlops
 * + layerBackwardWeightFlops == 2 · layerForwardFlops}, and every quantity that Megatron-style tensor
 * parallelism shards is divided by {@code t} (parameter counts are whole-model and are not).
 *
 * <p>Notation: L layers, h hidden, a heads, f feed-forward inner size, V vocabulary, s sequence length,
 * b micro-batch size, t tensor-parallel degree, {@code kvWidth = h · kvHeads / heads} (the width of the
 * K and V projections; h for multi-head attention). Activations and point-to-point tensors are bf16
 * (2 bytes per element).
 *
 * @param model            the model
 * @param microBatchSize   sequences per micro-batch b
 * @param tensor           tensor-parallel degree t (1 = none)
 * @param sequenceParallel Megatron sequence parallelism (Korthikanti et al. 2022 §4.2.2); no effect when t = 1
 */
public record CostModel(ModelSpec model, int microBatchSize, int tensor, boolean sequenceParallel) {

    public CostModel {
        if (model == null) throw new IllegalArgumentException("model must be given");
        if (microBatchSize < 1) throw new IllegalArgumentException("microBatchSize must be >= 1, got " + microBatchSize);
        if (tensor < 1) throw new IllegalArgumentException("tensor must be >= 1, got " + tensor);
    }

    // ---------------------------------------------------------------- parameters (whole model)

    /** Width of the K and V projections: {@code h · kvHeads / heads} (exactly h for MHA). */
    public long kvWidth() {
        return (long) model.hidden() * model.kvHeads() / model.heads();
    }

    /**
     * Weights of one decoder layer (docs/architecture.md, Cost model): attention {@code h·(h + 2·kvWidth) + h·h} (Q, K, V, output
     * projections; {@code 4h²} for MHA) plus MLP {@code 2·h·f} (GELU) or {@code 3·h·f} (SwiGLU). Biases and
     * norm weights are not counted: they are {@code O(h)} per layer, under 0.2% of the total for every preset.
     */
    public long layerParameters() {
        long h = model.hidden();
        long attention = h * (h + 2 * kvWidth()) + h * h;
        return attention + mlpMatrices() * h * model.ffnHidden();
    }

    /** The input embedding table: {@code V·h}. No learned position embeddings are counted. */
    public long embeddingParameters() {
        return (long) model.vocab() * model.hidden();
    }

    /** The output (logits) layer: 0 when tied to the embedding, else {@code V·h}. */
    public long outputParameters() {
        return model.tiedEmbeddings() ? 0L : embeddingParameters();
    }

    /**
     * {@code L·layerParameters + embeddingParameters + outputParameters}: weight matrices only; biases,
     * norms (including the final norm) and position embeddings are not counted (see {@link #layerParameters}).
     */
    public long totalParameters() {
        return model.layers() * layerParameters() + embeddingParameters() + outputParameters();
    }

    /** The spec's published override if it has one (the article uses 70e9), else {@link #totalParameters}. */
    public double parametersForMemory() {
        return model.parametersOverride().orElse((double) totalParameters());
    }

    // ---------------------------------------------------------------- FLOPs (per micro-batch, per rank)

    /**
     * GEMM FLOPs of one layer's forward, whole layer (Narayanan et al. 2021 §5.1 / Appendix, generalised
     * to GQA and SwiGLU): QKV {@code 2bsh(h + 2·kvWidth)}, output projection {@code 2bsh²}, MLP
     * {@code 2bsh·f·(2 or 3)}. For MHA with f = 4h this is {@code 24·b·s·h²}.
     */
    private double layerGemmFlops() {
        double b = microBatchSize;
        double s = model.seqLength();
        double h = model.hidden();
        double qkv = 2 * b * s * h * (h + 2 * (double) kvWidth());
        double outProj = 2 * b * s * h * h;
        double mlp = 2 * b * s * h * model.ffnHidden() * mlpMatrices();
        return qkv + outProj + mlp;
    }

    /** Attention core of one layer's forward, whole layer: scores {@code 2bs²h} + attention·V {@code 2bs²h}. */
    private double layerAttentionCoreFlops() {
        double b = microBatchSize;
        double s = model.seqLength();
        double h = model.hidden();
        return 4 * b * s * s * h;
    }

    /** One layer's forward: {@code (GEMM + attention core) / t}; MHA f=4h: {@code (24bsh² + 4bs²h) / t}. */
    public double layerForwardFlops() {
        return (layerGemmFlops() + layerAttentionCoreFlops()) / tensor;
    }

    /**
     * Backward to the layer's input (the "B" of zero-bubble schedules, Qi et al. 2023 §2): each GEMM once
     * (the input-gradient GEMM) and the attention core twice (both of its operands are activations).
     */
    public double layerBackwardInputFlops() {
        return (layerGemmFlops() + 2 * layerAttentionCoreFlops()) / tensor;
    }

    /** Backward to the layer's weights (the "W"): each GEMM once. */
    public double layerBackwardWeightFlops() {
        return layerGemmFlops() / tensor;
    }

    /**
     * Extra forward FLOPs re-run before the backward: none 0; selective the attention core
     * {@code 4bs²h / t} (Korthikanti et al. 2022 §5); full the whole layer forward.
     */
    public double layerRecomputeFlops(Recompute recompute) {
        return switch (recompute) {
            case NONE -> 0.0;
            case SELECTIVE -> layerAttentionCoreFlops() / tensor;
            case FULL -> layerForwardFlops();
        };
    }

    /** Logits GEMM: {@code 2·b·s·h·V / t} (Narayanan et al. 2021, Appendix: the {@code 6BshV} term / 3). */
    public double outputLayerForwardFlops() {
        return 2.0 * microBatchSize * model.seqLength() * model.hidden() * model.vocab() / tensor;
    }

    /** Equal to {@link #outputLayerForwardFlops}: one GEMM for the input gradient. */
    public double outputLayerBackwardInputFlops() {
        return outputLayerForwardFlops();
    }

    /** Equal to {@link #outputLayerForwardFlops}: one GEMM for the weight gradient. */
    public double outputLayerBackwardWeightFlops() {
        return outputLayerForwardFlops();
    }

    // ---------------------------------------------------------------- bytes (per micro-batch, per rank)

    /**
     * Activation bytes one layer stashes for its backward, per micro-batch (Korthikanti et al. 2022,
     * Table 2 and eqs. 1–6), with {@code b = microBatchSize}:
     * <ul>
     *   <li>none, no SP: {@code sbh·(10 + 24/t + 5as/(ht))} (t = 1: {@code sbh·(34 + 5as/h)}, eq. 1/2)</li>
     *   <li>none, SP: {@code sbh/t·(34 + 5as/h)} (eq. 4)</li>
     *   <li>selective, no SP: {@code sbh·(10 + 24/t)}; SP: {@code sbh·34/t} (eqs. 5, 6)</li>
     *   <li>full: {@code 2·sbh} (the layer input), {@code ÷ t} with SP</li>
     * </ul>
     * Computed in exact integers ({@code sbh·5as/h = 5·a·s²·b}); the single division by t is rounded up,
     * so results are exact whenever t divides the numerator (always for the presets' shapes).
     */
    public long layerActivationBytes(Recompute recompute) {
        long sbh = sbh();
        long t = tensor;
        long attentionScores = 5L * model.heads() * model.seqLength() * (long) model.seqLength() * microBatchSize;
        boolean sp = sequenceParallel;
        return switch (recompute) {
            case NONE -> sp
                    ? Collectives.ceilDiv(34 * sbh + attentionScores, t)
                    : Collectives.ceilDiv(10 * sbh * t + 24 * sbh + attentionScores, t);
            case SELECTIVE -> sp
                    ? Collectives.ceilDiv(34 * sbh, t)
                    : Collectives.ceilDiv(10 * sbh * t + 24 * sbh, t);
            case FULL -> sp ? Collectives.ceilDiv(2 * sbh, t) : 2 * sbh;
        };
    }

    /**
     * What the embedding stage keeps per micro-batch for its backward, after Megatron-LM's
     * {@code megatron/training/theoretical_memory_usage.py} ({@code compute_activation_memory}): the input token ids
     * ({@code 8·s·b}, int64) and the embedding dropout's mask ({@code s·b·h}, one byte each); divided by t with
     * sequence parallelism, as that function divides all of it (Korthikanti et al. 2022 §4.3), whole on every
     * tensor rank without (the embedding output is replicated there). Rounded up.
     */
    public long embeddingStashBytes() {
        long bytes = 8L * model.seqLength() * microBatchSize + sbh();
        return sequenceParallel ? Collectives.ceilDiv(bytes, tensor) : bytes;
    }

    /**
     * The last stage's inputs to the final layer norm and to the output layer, kept for their backward:
     * {@code 2·s·b·h} bf16 each, {@code 4·s·b·h} in all, divided by t with sequence parallelism (the {@code 4sbh/t} of
     * {@code 4·s·b·h·(1 + V/h)/t} in Megatron-LM's {@code theoretical_memory_usage.py}, "inputs to output layer and CE
     * loss"); whole without it, where the final norm runs replicated. Rounded up.
     */
    public long outputLayerInputBytes() {
        long bytes = 4 * sbh();
        return sequenceParallel ? Collectives.ceilDiv(bytes, tensor) : bytes;
    }

    /**
     * The cross-entropy's logits buffer, kept from the loss to the backward: {@code 4·s·b·V/t} bytes, the rank's
     * vocabulary shard of the logits in fp32. Megatron-LM's {@code megatron/core/tensor_parallel/cross_entropy.py}
     * converts the vocab-parallel logits with {@code .float()}, turns them into the softmax in place and saves it
     * ({@code ctx.save_for_backward(exp_logits, ...)}); {@code theoretical_memory_usage.py} counts it as the
     * {@code 4sbV/t} term. The bf16 logits the GEMM produced are freed once converted and are not counted; nor are the
     * loss's per-token tensors ({@code 13·s·b} bytes: target mask, masked target, loss): {@code 13·t/(4·V)} of the
     * logits, 0.08% for V = 32,000 and t = 8. Rounded up.
     */
    public long logitsBytes() {
        return Collectives.ceilDiv(4L * model.seqLength() * microBatchSize * model.vocab(), tensor);
    }

    /**
     * Bytes sent between adjacent stages per micro-batch (activation forward, its gradient backward):
     * {@code 2·s·b·h} (bf16), divided by t with sequence parallelism, where each tensor rank holds and sends
     * {@code 1/t} of the sequence (Korthikanti et al. 2022; rounded up). The whole message a stage receives: the
     * link may carry less ({@link #p2pLinkBytes}).
     */
    public long p2pBytes() {
        long bytes = 2 * sbh();
        return sequenceParallel ? Collectives.ceilDiv(bytes, tensor) : bytes;
    }

    /**
     * Bytes one pipeline link carries per message. With Megatron-LM's scatter/gather optimization (Narayanan et al.
     * 2021, "Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM", §4.1; Megatron-LM
     * {@code megatron/p2p_communication.py}, {@code _communicate} with {@code args.scatter_gather_tensors_in_pipeline})
     * every tensor rank sends its own {@code 1/t} of the message ({@code split_tensor_into_1d_equal_chunks}) over its
     * own inter-node link, all t in parallel, so one link carries {@code 2·s·b·h / t}. Megatron sends the whole
     * tensor when its {@code s·b·h} elements do not split evenly ({@code override_scatter_gather_tensors_in_pipeline})
     * and skips the optimization with sequence parallelism, whose message is already {@code 1/t}
     * ({@code not args.sequence_parallel} in later versions); t = 1 has nothing to split. Then it is {@link #p2pBytes()}.
     */
    public long p2pLinkBytes(boolean scatterGather) {
        return scatterGathers(scatterGather) ? p2pBytes() / tensor : p2pBytes();
    }

    /**
     * The receiver's all-gather of the scatter/gather optimization: its t ranks rebuild the whole {@code 2·s·b·h}
     * message from their chunks ({@code gather_split_1d_tensor}, an all-gather over the tensor-parallel group) on the
     * tensor-parallel link: {@code t-1} ring steps of a {@code 1/t} chunk, as the tensor-parallel all-gathers of
     * sequence parallelism are priced ({@link Collectives#allGatherSeconds}). 0 when the optimization does not apply.
     */
    public double p2pGatherSeconds(boolean scatterGather, LinkSpec tensorParallelLink) {
        return scatterGathers(scatterGather) ? Collectives.allGatherSeconds(p2pBytes(), tensor, tensorParallelLink) : 0.0;
    }

    private boolean scatterGathers(boolean scatterGather) {
        return scatterGather && tensor > 1 && !sequenceParallel && sbh() % tensor == 0;
    }

    // ---------------------------------------------------------------- tensor-parallel communication

    /**
     * Tensor-parallel communication of one layer's forward: Megatron's f/g operators do two all-reduces of
     * the {@code 2·s·b·h}-byte layer output (after attention and after the MLP; Shoeybi et al. 2019 §3,
     * Narayanan et al. 2021 §3.3). With sequence parallelism each becomes an all-gather plus a
     * reduce-scatter of the same volume (Korthikanti et al. 2022 §4.2.2). 0 when t = 1.
     */
    public double tensorParallelSecondsPerLayer(LinkSpec intraNode) {
        if (tensor == 1) return 0.0;
        long bytes = 2 * sbh();
        double one = sequenceParallel
                ? Collectives.allGatherSeconds(bytes, tensor, intraNode)
                        + Collectives.reduceScatterSeconds(bytes, tensor, intraNode)
                : Collectives.ringAllReduceSeconds(bytes, tensor, intraNode);
        return 2 * one;
    }

    /** The backward twin: two more collectives of the same size (the conjugate f/g operators). */
    public double tensorParallelBackwardSecondsPerLayer(LinkSpec intraNode) {
        return tensorParallelSecondsPerLayer(intraNode);
    }

    private long sbh() {
        return (long) model.seqLength() * microBatchSize * model.hidden();
    }

    private int mlpMatrices() {
        return switch (model.mlp()) {
            case GELU -> 2;
            case SWIGLU -> 3;
        };
    }
}
