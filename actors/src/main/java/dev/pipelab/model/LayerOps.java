package dev.pipelab.model;

import java.util.ArrayList;
import java.util.List;

/**
 * One decoder layer, and the embedding and output layers, as the kernels one tensor-parallel rank runs per
 * micro-batch, split as zero-bubble schedules split them: forward (F), backward to the input (B) and backward to
 * the weights (W). Invariant: with {@link Attention#MATERIALISED} the GEMM FLOPs of F, B and W are exactly
 * {@link CostModel}'s {@code layerForwardFlops}, {@code layerBackwardInputFlops} and {@code layerBackwardWeightFlops}
 * (the time model and the FLOP count describe one computation).
 *
 * <p>GEMM shapes per rank follow Megatron-LM's column- and row-parallel linear layers (Shoeybi et al. 2019 §3;
 * Narayanan et al. 2021 §3.3 and Appendix): with T = b·s tokens, QKV {@code T x (h + 2·kvWidth)/t x h},
 * scores {@code (b·a/t) x [s x s x h/a]}, context {@code (b·a/t) x [s x h/a x s]}, output projection
 * {@code T x h x h/t}, MLP up {@code T x f/t x h} (gate and up together, {@code 2f/t}, for SwiGLU), down
 * {@code T x h x f/t}, logits {@code T x V/t x h}. A weight GEMM {@code y[m x n] = x[m x k]·W[k x n]} has the
 * input gradient {@code dx = dy·Wᵀ} ({@code m x k x n}, in B) and the weight gradient {@code dW = xᵀ·dy}
 * ({@code k x n x m}, in W); both operands of the attention core are activations, so its four backward GEMMs
 * are all in B.
 *
 * <p>Memory-bound kernels move the activations whose sizes Korthikanti et al. 2022 §4.1 lists (the items behind
 * their Table 2: layer-norm inputs {@code 2sbh}, softmax output {@code 2as²b}, dropout masks {@code sbh} and
 * {@code as²b} of one byte, GELU input {@code 8sbh}), in bf16, through the kernels Megatron-LM fuses
 * (scale-mask-softmax, bias-GELU, bias-dropout-add). A forward kernel reads its inputs and writes its outputs; its
 * backward reads what the forward saved and the output gradient and writes the input gradient. With sequence
 * parallelism the layer norms, dropouts and residual adds work on {@code 1/t} of the sequence (Korthikanti et al.
 * 2022 §4.2.2); without it every rank repeats them on the whole sequence.
 *
 * @param model            the model
 * @param microBatchSize   b
 * @param tensor           t
 * @param sequenceParallel Megatron sequence parallelism
 * @param attention        materialised scores or a fused (flash) kernel
 */
public record LayerOps(ModelSpec model, int microBatchSize, int tensor, boolean sequenceParallel, Attention attention) {

    public LayerOps {
        if (model == null || attention == null) throw new IllegalArgumentException("model and attention must be given");
        if (microBatchSize < 1) throw new IllegalArgumentException("microBatchSize must be >= 1, got " + microBatchSize);
        if (tensor < 1) throw new IllegalArgumentException("tensor must be >= 1, got " + tensor);
    }

    // ---------------------------------------------------------------- one decoder layer

    /** The forward of one layer. */
    public List<Op> forward() {
        List<Op> ops = new ArrayList<>();
        ops.add(Op.memory("layernorm1", 4 * seqElements()));                       // read x, write LN(x)
        ops.add(qkv().op());
        ops.addAll(attentionCoreForward());
        ops.add(outputProjection().op());
        ops.add(Op.memory("bias-dropout-add1", 7 * seqElements()));                // read x and residual, write sum and 1-byte mask
        ops.add(Op.memory("layernorm2", 4 * seqElements()));
        ops.add(mlpUp().op());
        ops.add(Op.memory(activationName(), gated() ? 6 * mlpElements() : 4 * mlpElements())); // read 1 or 2, write 1
        ops.add(mlpDown().op());
        ops.add(Op.memory("bias-dropout-add2", 7 * seqElements()));
        return List.copyOf(ops);
    }

    /** The backward to the layer's input (B): input-gradient GEMMs, the attention core's four GEMMs, the kernels' backwards. */
    public List<Op> backwardInput() {
        List<Op> ops = new ArrayList<>();
        ops.add(Op.memory("bias-dropout-add2-backward", 5 * seqElements()));       // read dy and mask, write dx
        ops.add(mlpDown().inputGradient());
        ops.add(Op.memory(activationName() + "-backward", gated() ? 10 * mlpElements() : 6 * mlpElements()));
        ops.add(mlpUp().inputGradient());
        ops.add(Op.memory("layernorm2-backward", 6 * seqElements()));             // read x and dy, write dx
        ops.add(Op.memory("residual-gradient-add2", 6 * seqElements()));          // read two gradients, write their sum
        ops.add(Op.memory("bias-dropout-add1-backward", 5 * seqElements()));
        ops.add(outputProjection().inputGradient());
        ops.addAll(attentionCoreBackward());
        ops.add(qkv().inputGradient());
        ops.add(Op.memory("layernorm1-backward", 6 * seqElements()));
        ops.add(Op.memory("residual-gradient-add1", 6 * seqElements()));
        return List.copyOf(ops);
    }

    /** The backward to the layer's weights (W): one weight-gradient GEMM per weight matrix. */
    public List<Op> backwardWeight() {
        return List.of(mlpDown().weightGradient(), mlpUp().weightGradient(), outputProjection().weightGradient(),
                qkv().weightGradient());
    }

    /**
     * What a recomputation policy re-runs before the backward: none nothing; selective the attention core
     * (Korthikanti et al. 2022 §5); full the whole forward.
     */
    public List<Op> recompute(Recompute recompute) {
        return switch (recompute) {
            case NONE -> List.of();
            case SELECTIVE -> attentionCoreForward();
            case FULL -> forward();
        };
    }

    // ---------------------------------------------------------------- embedding (first stage) and output (last stage)

    /** The input embedding's forward: gather T rows of h from this rank's vocabulary slice, then dropout. */
    public List<Op> embeddingForward() {
        return List.of(Op.memory("embedding", 2.0 * Op.BF16 * tokens() * model.hidden()),
                Op.memory("embedding-dropout", 5 * seqElements()));
    }

    /** The embedding's weight gradient: scatter-add T rows of h into the table (read dy, read and write the rows). */
    public List<Op> embeddingBackwardWeight() {
        return List.of(Op.memory("embedding-dropout-backward", 5 * seqElements()),
                Op.memory("embedding-gradient", 3.0 * Op.BF16 * tokens() * model.hidden()));
    }

    /**
     * The last stage's forward after the layers: the final layer norm, the logits GEMM and the vocabulary-parallel
     * cross entropy (Megatron-LM {@code tensor_parallel/cross_entropy.py}: a max pass, an exp-sum pass over the
     * logits, the softmax written for the backward: three passes over {@code T x V/t}).
     */
    public List<Op> outputForward() {
        return List.of(Op.memory("final-layernorm", 4 * seqElements()), logits().op(),
                Op.memory("cross-entropy", 3.0 * Op.BF16 * tokens() * vocabShard()));
    }

    /** Its backward to the input: the loss gradient (softmax minus one-hot), the logits' input gradient, the norm's. */
    public List<Op> outputBackwardInput() {
        return List.of(Op.memory("cross-entropy-backward", 2.0 * Op.BF16 * tokens() * vocabShard()),
                logits().inputGradient(), Op.memory("final-layernorm-backward", 6 * seqElements()));
    }

    /** Its backward to the weights: the logits' weight gradient. */
    public List<Op> outputBackwardWeight() {
        return List.of(logits().weightGradient());
    }

    // ---------------------------------------------------------------- sums

    /** Seconds of {@code ops} run one after another on {@code device} at full speed. */
    public static double seconds(List<Op> ops, DeviceSpec device) {
        double s = 0;
        for (Op op : ops) s += op.seconds(device);
        return s;
    }

    /** Tensor-core FLOPs of {@code ops}. */
    public static double flops(List<Op> ops) {
        double f = 0;
        for (Op op : ops) f += op.flops();
        return f;
    }

    // ---------------------------------------------------------------- the kernels

    private Gemm qkv() {
        return new Gemm("qkv", 1, tokens(), (model.hidden() + 2 * kvWidth()) / tensor, model.hidden());
    }

    private Gemm outputProjection() {
        return new Gemm("attention-projection", 1, tokens(), model.hidden(), model.hidden() / tensor);
    }

    private Gemm mlpUp() {
        return new Gemm(gated() ? "mlp-gate-up" : "mlp-up", 1, tokens(), (gated() ? 2L : 1L) * model.ffnHidden() / tensor,
                model.hidden());
    }

    private Gemm mlpDown() {
        return new Gemm("mlp-down", 1, tokens(), model.hidden(), model.ffnHidden() / tensor);
    }

    private Gemm logits() {
        return new Gemm("logits", 1, tokens(), vocabShard(), model.hidden());
    }

    /** A GEMM {@code y[m x n] = x[m x k] · W[k x n]}, {@code batch} times, and its two gradients. */
    private record Gemm(String name, long batch, long m, long n, long k) {
        Op op() {
            return Op.gemm(name, batch, m, n, k);
        }

        /** {@code dx[m x k] = dy[m x n] · Wᵀ}. */
        Op inputGradient() {
            return Op.gemm(name + "-dgrad", batch, m, k, n);
        }

        /** {@code dW[k x n] = xᵀ[k x m] · dy[m x n]}. */
        Op weightGradient() {
            return Op.gemm(name + "-wgrad", batch, k, n, m);
        }
    }

    private List<Op> attentionCoreForward() {
        long heads = model.heads() / tensor;
        long batch = (long) microBatchSize * heads;
        long s = model.seqLength();
        long d = headDim();
        if (attention == Attention.FLASH) {
            // one kernel: the two GEMMs' FLOPs; reads Q, K, V and writes O (Dao et al. 2022, Theorem 2: no s² traffic)
            Op scores = Op.gemm("flash-attention", batch, s, s, d);
            double bytes = (double) Op.BF16 * tokens() * (model.hidden() + 2 * kvWidth() + model.hidden()) / tensor;
            return List.of(new Op("flash-attention", 2 * scores.flops(), bytes, scores.tiles(), scores.tileFill()));
        }
        double scores = (double) batch * s * s;
        return List.of(Op.gemm("attention-scores", batch, s, s, d),
                Op.memory("scale-mask-softmax", 4 * scores),                     // read and write 2-byte scores
                Op.memory("attention-dropout", 5 * scores),                      // read, write, 1-byte mask
                Op.gemm("attention-context", batch, s, d, s));
    }

    private List<Op> attentionCoreBackward() {
        long heads = model.heads() / tensor;
        long batch = (long) microBatchSize * heads;
        long s = model.seqLength();
        long d = headDim();
        if (attention == Attention.FLASH) {
            // Dao et al. 2022, Algorithm 4: recompute S = QKᵀ, then dV, dP, dQ, dK: five s²·d GEMMs in one kernel,
            // reading Q, K, V, O, dO and writing dQ, dK, dV
            Op scores = Op.gemm("flash-attention-backward", batch, s, s, d);
            double bytes = (double) Op.BF16 * tokens() * 2 * (model.hidden() + 2 * kvWidth() + model.hidden()) / tensor;
            return List.of(new Op("flash-attention-backward", 5 * scores.flops(), bytes, scores.tiles(), scores.tileFill()));
        }
        double scores = (double) batch * s * s;
        return List.of(Op.gemm("attention-context-dgrad-probs", batch, s, s, d),   // dP = dO · Vᵀ
                Op.gemm("attention-context-dgrad-values", batch, s, d, s),         // dV = Pᵀ · dO
                Op.memory("attention-dropout-backward", 5 * scores),              // read dy and mask, write dx
                Op.memory("scale-mask-softmax-backward", 6 * scores),             // read y and dy, write dx
                Op.gemm("attention-scores-dgrad-queries", batch, s, d, s),        // dQ = dS · K
                Op.gemm("attention-scores-dgrad-keys", batch, s, d, s));          // dK = dSᵀ · Q
    }

    // ---------------------------------------------------------------- sizes

    private long tokens() {
        return (long) microBatchSize * model.seqLength();
    }

    /**
     * Elements of one {@code s·b·h} tensor as each rank holds it (divided by t with sequence parallelism); the
     * kernels' coefficients are bytes per element (read 2 + write 2 = 4 for a bf16 layer norm).
     */
    private double seqElements() {
        double whole = (double) tokens() * model.hidden();
        return sequenceParallel ? whole / tensor : whole;
    }

    /** Elements of the MLP's inner activation on one rank: {@code s·b·f/t}. */
    private double mlpElements() {
        return (double) tokens() * model.ffnHidden() / tensor;
    }

    private long vocabShard() {
        return Op.ceilDiv(model.vocab(), tensor);
    }

    private long kvWidth() {
        return (long) model.hidden() * model.kvHeads() / model.heads();
    }

    private long headDim() {
        return model.hidden() / model.heads();
    }

    private boolean gated() {
        return model.mlp() == Mlp.SWIGLU;
    }

    private String activationName() {
        return gated() ? "swiglu" : "bias-gelu";
    }
}
