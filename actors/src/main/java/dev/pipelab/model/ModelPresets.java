package dev.pipelab.model;

import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The catalog of published decoder-only models. Invariant: every entry's shape is copied from the
 * cited paper or model card and is defined exactly once; names are unique.
 */
public final class ModelPresets {

    private static final Catalog<ModelSpec> PRESETS = build();

    private ModelPresets() {
    }

    /** The preset named {@code name} (exact match), or empty. */
    public static Optional<ModelSpec> find(String name) {
        return PRESETS.find(name);
    }

    /** All preset names, sorted. */
    public static List<String> names() {
        return PRESETS.names();
    }

    private static Catalog<ModelSpec> build() {
        Catalog<ModelSpec> m = new Catalog<>(ModelSpec::name);

        // Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU Clusters Using
        // Megatron-LM", Table 1 (columns: attention heads, hidden size, layers; published sizes
        // 1.7, 3.6, 7.5, 18.4, 39.1, 76.1, 145.6, 310.1, 529.6, 1008.0 billion). §5.1: vocabulary
        // 51,200, sequence length 2,048, GPT architecture (GELU MLP with f = 4h, output layer tied
        // to the input embedding).
        megatron(m, "gpt-1.7b", 24, 2304, 24);
        megatron(m, "gpt-3.6b", 32, 3072, 30);
        megatron(m, "gpt-7.5b", 32, 4096, 36);
        megatron(m, "gpt-18b", 48, 6144, 40);
        megatron(m, "gpt-39b", 64, 8192, 48);
        megatron(m, "gpt-76b", 80, 10240, 60);
        megatron(m, "gpt-145b", 96, 12288, 80);
        megatron(m, "gpt-310b", 128, 16384, 96);
        megatron(m, "gpt-530b", 128, 20480, 105);
        megatron(m, "gpt-1t", 160, 25600, 128);

        // Brown et al. 2020, "Language Models are Few-Shot Learners", Table 2.1 (n_layers, d_model,
        // n_heads); §2.1: context 2,048 tokens, GPT-2 architecture (GELU, d_ff = 4·d_model, tied
        // embeddings), GPT-2 BPE vocabulary of 50,257 (Radford et al. 2019).
        // Table 2.1 as printed lists GPT-3 XL with 24 heads of 128 (24·128 != 2048) and GPT-3 13B
        // with d_model 5140; both are copied as printed — the cost model uses heads only in the
        // 5·a·s/h activation term and never needs h / a to be an integer for MHA.
        gpt3(m, "gpt3-125m", 12, 768, 12);
        gpt3(m, "gpt3-350m", 24, 1024, 16);
        gpt3(m, "gpt3-760m", 24, 1536, 16);
        gpt3(m, "gpt3-1.3b", 24, 2048, 24);
        gpt3(m, "gpt3-2.7b", 32, 2560, 32);
        gpt3(m, "gpt3-6.7b", 32, 4096, 32);
        gpt3(m, "gpt3-13b", 40, 5140, 40);
        gpt3(m, "gpt3-175b", 96, 12288, 96);

        // Touvron et al. 2023, "Llama 2: Open Foundation and Fine-Tuned Chat Models", Table 1 and §2.2
        // (context 4,096, GQA for 70B) and the released config.json files (hidden_size,
        // intermediate_size, num_attention_heads, num_key_value_heads; vocab_size 32,000;
        // SwiGLU MLP; tie_word_embeddings false).
        m.add(llama("llama2-7b", 32, 4096, 32, 32, 11008, 32000, 4096));
        m.add(llama("llama2-13b", 40, 5120, 40, 40, 13824, 32000, 4096));
        m.add(llama("llama2-70b", 80, 8192, 64, 8, 28672, 32000, 4096));

        // Llama Team 2024, "The Llama 3 Herd of Models", Table 3 (layers, model dimension, FFN
        // dimension, attention heads, key/value heads 8, vocabulary 128,000 -> 128,256 in the
        // released config.json) and §3.4 (sequence length 8,192 in pre-training); SwiGLU, untied.
        m.add(llama("llama3-8b", 32, 4096, 32, 8, 14336, 128256, 8192));
        m.add(llama("llama3-70b", 80, 8192, 64, 8, 28672, 128256, 8192));
        m.add(llama("llama3-405b", 126, 16384, 128, 8, 53248, 128256, 8192));
        return m;
    }

    /** Arguments in the column order of Narayanan et al. 2021, Table 1: heads, hidden size, layers. */
    private static void megatron(Catalog<ModelSpec> m, String name, int heads, int hidden, int layers) {
        m.add(gpt(name, layers, hidden, heads, 51200));
    }

    /** Arguments in the column order of Brown et al. 2020, Table 2.1: layers, d_model, heads. */
    private static void gpt3(Catalog<ModelSpec> m, String name, int layers, int hidden, int heads) {
        m.add(gpt(name, layers, hidden, heads, 50257));
    }

    /** The Llama architecture of Touvron et al. 2023 and the Llama Team 2024: SwiGLU MLP, untied embeddings. */
    private static ModelSpec llama(String name, int layers, int hidden, int heads, int kvHeads, int ffnHidden, int vocab,
                                   int seqLength) {
        return new ModelSpec(name, layers, hidden, heads, kvHeads, ffnHidden, vocab, seqLength, Mlp.SWIGLU, false,
                OptionalDouble.empty());
    }

    /** The GPT architecture both papers use: GELU MLP with f = 4h, multi-head attention, tied embeddings, 2,048 tokens. */
    private static ModelSpec gpt(String name, int layers, int hidden, int heads, int vocab) {
        return new ModelSpec(name, layers, hidden, heads, heads, 4 * hidden, vocab, 2048, Mlp.GELU, true, OptionalDouble.empty());
    }
}
