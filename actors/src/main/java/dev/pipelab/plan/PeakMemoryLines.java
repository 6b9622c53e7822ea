package dev.pipelab.plan;

import dev.pipelab.model.FrameworkOverhead;
import dev.pipelab.schedule.CompiledSchedule;
import dev.pipelab.schedule.Evaluator;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One rank's peak memory per GPU, line by line (docs/memory.md): the static lines of its model stages and what
 * its stash holds when the evaluator's walk first reaches the rank's peak. Invariant: the lines sum to
 * {@code Timeline.peakMemoryBytes(rank)} exactly, because they split the very {@link StageMemory} sums that the stage
 * costs carry and count the micro-batches the same walk finds live ({@link CompiledSchedule#peakLive}).
 *
 * @param rank        the pipeline rank
 * @param lines       the lines, static first, then what is live at the peak; lines the plan does not have are left out
 * @param totalBytes  their sum, the rank's peak
 */
public record PeakMemoryLines(int rank, List<Line> lines, long totalBytes) {

    /** One line: what, how many bytes, and how they come about. */
    public record Line(String name, long bytes, String detail) {}

    public PeakMemoryLines {
        lines = List.copyOf(lines);
    }

    /** The lines of {@code rank} of the plan. */
    public static PeakMemoryLines of(Plan plan, int rank) {
        CompiledSchedule.PeakLive live = Evaluator.peakLive(plan.schedule(), plan.stageCosts(), rank);
        MemoryPolicy policy = plan.memory();
        int d = plan.data();
        long weights = 0, gradients = 0, optimizer = 0, gathered = 0, receive = 0, overhead = 0;
        long layerStash = 0, embedding = 0, outputInput = 0, logits = 0, recompute = 0;
        int layerMicroBatches = 0, recomputing = 0;
        for (int k = 0; k < plan.stageMemory().size(); k++) {
            StageMemory m = plan.stageMemory().get(k);
            if (plan.schedule().rankOf(k) == rank) {
                weights += m.weightBytes();
                gradients += m.gradientBytes();
                optimizer += m.optimizerBytes();
                gathered += m.gatheredWeightBytes();
                receive += m.receiveBufferBytes();
                overhead += m.overheadBytes();
            }
            int q = live.stashes()[k];
            layerStash += q * m.layerStashBytes();
            embedding += q * m.embeddingStashBytes();
            outputInput += q * m.outputInputBytes();
            logits += q * m.logitsBytes();
            recompute += live.recomputes()[k] * m.recomputeBytes();
            if (m.layerStashBytes() > 0) layerMicroBatches += q;
            recomputing += live.recomputes()[k];
        }
        List<Line> lines = new ArrayList<>();
        lines.add(new Line("parameters", weights, shard(policy.zero().stage() >= 3, d, plan.optimizer().weightBytesPerParameter())));
        lines.add(new Line("gradients", gradients, shard(policy.zero().stage() >= 2, d, plan.optimizer().gradientBytesPerParameter())));
        lines.add(new Line("optimizer state", optimizer, shard(policy.zero().stage() >= 1, d, plan.optimizer().stateBytesPerParameter())));
        if (gathered > 0) lines.add(new Line("gathered layer", gathered, "ZeRO 3: one decoder layer's weights, gathered whole"));
        if (receive > 0) {
            long p2p = plan.costModel().p2pBytes();
            lines.add(new Line("receive buffers", receive, String.format(Locale.ROOT,
                    "%d x %.1f MB: an activation and a gradient where the rank receives them", receive / p2p, p2p / 1e6)));
        }
        if (overhead > 0) {
            boolean byDefault = policy.frameworkOverheadBytes() == FrameworkOverhead.defaultBytes(plan.pipeline(), d, plan.tensor());
            long communicators = (policy.frameworkOverheadBytes() - FrameworkOverhead.CUDA_CONTEXT_BYTES) / FrameworkOverhead.NCCL_COMMUNICATOR_BYTES;
            lines.add(new Line("framework", overhead, byDefault
                    ? "CUDA context 1,343 MiB + " + communicators + " NCCL communicator(s) x 688 MiB (default)"
                    : "hardware.frameworkOverheadGB"));
        }
        lines.add(new Line("layer activations", layerStash, String.format(Locale.ROOT, "%d micro-batch stash(es) live at the peak, recompute %s",
                layerMicroBatches, plan.recompute().scenarioName())));
        if (recompute > 0) lines.add(new Line("recomputed", recompute, recomputing + " micro-batch(es) being recomputed"));
        if (embedding > 0) lines.add(new Line("embedding", embedding, "token ids and dropout mask per micro-batch in flight"));
        if (outputInput > 0) lines.add(new Line("output layer input", outputInput, "final norm and output layer inputs per micro-batch in flight"));
        if (logits > 0) lines.add(new Line("logits (fp32)", logits, "the cross-entropy's fp32 logits per micro-batch in flight"));
        long total = 0;
        for (Line l : lines) total += l.bytes();
        if (total != live.peakBytes()) {
            throw new IllegalStateException("memory lines of rank " + rank + " sum to " + total + ", the peak is " + live.peakBytes());
        }
        return new PeakMemoryLines(rank, lines, total);
    }

    private static String shard(boolean sharded, int d, int bytesPerParameter) {
        return bytesPerParameter + " B per parameter" + (sharded && d > 1 ? " / d (d=" + d + ")" : "");
    }
}
