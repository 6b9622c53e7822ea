package dev.pipelab.model;

import java.util.OptionalDouble;

/**
 * A decoder-only transformer: the shapes the cost model needs. Invariant: every size is positive and
 * {@code heads} is a multiple of {@code kvHeads}.
 *
 * @param name                 preset name or the scenario's name for a custom model
 * @param layers               decoder layers L
 * @param hidden               hidden size h
 * @param heads                attention heads a
 * @param kvHeads              key/value heads (grouped-query attention); equals {@code heads} for MHA
 * @param ffnHidden            feed-forward inner size f
 * @param vocab                vocabulary size V
 * @param seqLength            sequence length s used for training
 * @param mlp                  feed-forward flavour
 * @param tiedEmbeddings       whether the output layer shares the input embedding's weights
 * @param parametersOverride   a published total that replaces the computed count for memory (the article uses 70e9)
 */
public record ModelSpec(String name, int layers, int hidden, int heads, int kvHeads, int ffnHidden, int vocab,
                        int seqLength, Mlp mlp, boolean tiedEmbeddings, OptionalDouble parametersOverride) {

    public ModelSpec {
        requirePositive("layers", layers);
        requirePositive("hidden", hidden);
        requirePositive("heads", heads);
        requirePositive("kvHeads", kvHeads);
        requirePositive("ffnHidden", ffnHidden);
        requirePositive("vocab", vocab);
        requirePositive("seqLength", seqLength);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads (" + heads + ") must be a multiple of kvHeads (" + kvHeads + ")");
        }
        if (mlp == null) throw new IllegalArgumentException("mlp must be given");
        if (parametersOverride == null) parametersOverride = OptionalDouble.empty();
    }

    private static void requirePositive(String what, int value) {
        if (value < 1) throw new IllegalArgumentException(what + " must be >= 1, got " + value);
    }

    public ModelSpec withSeqLength(int s) {
        return new ModelSpec(name, layers, hidden, heads, kvHeads, ffnHidden, vocab, s, mlp, tiedEmbeddings, parametersOverride);
    }
}
