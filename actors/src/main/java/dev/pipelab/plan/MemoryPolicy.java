package dev.pipelab.plan;

import dev.pipelab.model.Zero;

/**
 * What a plan's memory counts (docs/memory.md). Invariant: the article's accounting ({@code complete == false})
 * counts no framework overhead.
 *
 * @param zero                    the ZeRO stage ({@code parallelism.zero})
 * @param complete                every line ({@code training.memory: complete}), or the article's lines only: model
 *                                states and the decoder layers' activations ({@code article})
 * @param frameworkOverheadBytes  per rank: CUDA context, NCCL buffers, allocator ({@code hardware.frameworkOverheadGB}
 *                                or its documented default); 0 in the article's accounting
 */
public record MemoryPolicy(Zero zero, boolean complete, long frameworkOverheadBytes) {

    /** The article's assumptions: no sharding, no line beyond model states and layer activations. */
    public static final MemoryPolicy ARTICLE = new MemoryPolicy(Zero.NONE, false, 0);

    public MemoryPolicy {
        if (zero == null) throw new IllegalArgumentException("zero must be given");
        if (frameworkOverheadBytes < 0) throw new IllegalArgumentException("frameworkOverheadBytes must be >= 0, got " + frameworkOverheadBytes);
        if (!complete && frameworkOverheadBytes != 0) {
            throw new IllegalArgumentException("the article's accounting counts no framework overhead, got " + frameworkOverheadBytes);
        }
    }
}
