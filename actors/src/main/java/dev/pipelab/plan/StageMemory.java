package dev.pipelab.plan;

/**
 * One model stage's memory on one device, line by line (docs/memory.md gives each line's formula and source).
 * Invariant: {@link #staticBytes} and {@link #stashBytes} are the sums of their lines, and the stage's
 * {@link dev.pipelab.schedule.StageCost} carries exactly these sums, so lines printed from here add up to the
 * evaluator's (and the runtime's) peak.
 *
 * @param weightBytes          the stage's weights on this device (÷ d under ZeRO 3)
 * @param gradientBytes        their gradients (÷ d under ZeRO 2 and 3)
 * @param optimizerBytes       their optimizer state (÷ d under ZeRO 1 to 3)
 * @param gatheredWeightBytes  ZeRO 3: one decoder layer's weights gathered whole for its forward or backward
 * @param receiveBufferBytes   point-to-point receive buffers: one activation, one gradient (where the stage receives them)
 * @param overheadBytes        framework and allocator overhead (on the first model stage of each rank)
 * @param modelStateBytes      the stage's weights, gradients and optimizer state whole, unsharded: what a checkpoint holds
 * @param layerStashBytes      per micro-batch in flight: the decoder layers' activations (Korthikanti et al. 2022)
 * @param embeddingStashBytes  per micro-batch in flight: the embedding's token ids and dropout mask (first stage)
 * @param outputInputBytes     per micro-batch in flight: the inputs of the final norm and the output layer (last stage)
 * @param logitsBytes          per micro-batch in flight: the cross-entropy's fp32 logits (last stage)
 * @param recomputeBytes       per micro-batch being recomputed: what its R re-materialises
 */
public record StageMemory(long weightBytes, long gradientBytes, long optimizerBytes, long gatheredWeightBytes,
                          long receiveBufferBytes, long overheadBytes, long modelStateBytes, long layerStashBytes,
                          long embeddingStashBytes, long outputInputBytes, long logitsBytes, long recomputeBytes) {

    /** Bytes held for the whole step. */
    public long staticBytes() {
        return weightBytes + gradientBytes + optimizerBytes + gatheredWeightBytes + receiveBufferBytes + overheadBytes;
    }

    /** Bytes an F keeps until its backward is done. */
    public long stashBytes() {
        return layerStashBytes + embeddingStashBytes + outputInputBytes + logitsBytes;
    }
}
