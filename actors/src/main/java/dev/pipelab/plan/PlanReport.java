package dev.pipelab.plan;

import dev.pipelab.model.CostModel;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Timeline;

import java.util.ArrayList;
import java.util.List;

/**
 * The numbers of a plan (field names as in {@code report.json}: camelCase, base units). Invariant: every figure is
 * derived from one {@link Plan} and its exact {@link Timeline}; nothing is estimated twice.
 *
 * @param name                    scenario name
 * @param schedule                schedule name
 * @param pipeline                p
 * @param data                    d
 * @param tensor                  t
 * @param virtualStages           v
 * @param microBatchSize          b
 * @param microBatches            m
 * @param devices                 p·d·t
 * @param globalBatch             sequences per step, b·m·d
 * @param stepTimeSeconds         analytic step time
 * @param bubbleFraction          idle stage-time over total stage-time
 * @param megatronBubbleFraction  Megatron-LM's convention (p-1)/(v·m): bubble time over ideal compute time
 * @param samplesPerSecond        sequences per second
 * @param tokensPerSecond         tokens per second
 * @param mfu                     model FLOPs utilisation (no recomputation counted)
 * @param hfu                     hardware FLOPs utilisation (recomputation counted)
 * @param modelFlopsPerStep       model FLOPs of one step over all devices
 * @param memory                  the whole model's memory (the article's accounting) and the devices it needs
 * @param fits                    whether every stage's peak fits the device memory
 * @param deviceMemoryBytes       one device's memory
 * @param stages                  one entry per pipeline rank
 * @param steps                   per-step figures (the plan has one analytic step)
 * @param faults                  faults (none in a plan)
 */
public record PlanReport(String name, String schedule, int pipeline, int data, int tensor, int virtualStages,
                         int microBatchSize, int microBatches, int devices, long globalBatch, double stepTimeSeconds,
                         double bubbleFraction, double megatronBubbleFraction, double samplesPerSecond,
                         double tokensPerSecond, double mfu, double hfu, double modelFlopsPerStep, Memory memory,
                         boolean fits, long deviceMemoryBytes, List<Stage> stages, List<Step> steps, List<Object> faults) {

    /**
     * The whole model's memory with one micro-batch of activations (the article's arithmetic: parameters,
     * gradients, optimizer state, activations of all layers), and how many devices that needs at least.
     */
    public record Memory(long parametersBytes, long gradientsBytes, long optimizerBytes, long activationsBytes,
                         long totalBytes, long minDevices) {}

    /** One pipeline rank: its layers (all its virtual stages), busy fraction, peaks. */
    public record Stage(int index, int layers, double busyFraction, long peakMemoryBytes, int peakInFlightMicrobatches,
                        double forwardSeconds, double backwardSeconds, double allReduceSeconds, double optimizerSeconds,
                        long staticBytes, long parameters) {}

    public record Step(int step, double stepTimeSeconds) {}

    public static PlanReport of(Plan plan, Timeline timeline) {
        CostModel cm = plan.costModel();
        Schedule schedule = plan.schedule();
        int p = plan.pipeline();
        int t = plan.tensor();
        long b = plan.microBatchSize();
        long seq = plan.model().seqLength();
        double step = timeline.stepTimeSeconds();

        // ---- memory, the article's way: N parameters, one micro-batch through every layer ----
        double n = cm.parametersForMemory();
        long params = Math.round(n * plan.optimizer().weightBytesPerParameter());
        long grads = Math.round(n * plan.optimizer().gradientBytesPerParameter());
        long state = Math.round(n * plan.optimizer().stateBytesPerParameter());
        // layerActivationBytes is per tensor rank; the tensor group together holds t times that
        long activations = (long) plan.model().layers() * cm.layerActivationBytes(plan.recompute()) * t;
        long total = params + grads + state + activations;
        long deviceMemory = plan.device().memoryBytes();
        long minDevices = (total + deviceMemory - 1) / deviceMemory;

        // ---- throughput and utilisation ----
        long sequences = plan.globalBatch();
        double samplesPerSecond = sequences / step;
        PlanFlops flops = PlanFlops.of(plan);
        double modelFlops = flops.modelPerStep();
        double peak = plan.device().peakFlopsPerSecond() * plan.devices() * step;
        double mfu = modelFlops / peak;
        double hfu = flops.hardwarePerStep() / peak;

        // ---- per rank ----
        List<Stage> stages = new ArrayList<>(p);
        boolean fits = true;
        for (int r = 0; r < p; r++) {
            int layers = 0;
            double forward = 0, backward = 0, allReduce = 0, optimizer = 0, raw = 0;
            long staticBytes = 0;
            for (int chunk = 0; chunk < schedule.virtualStages(); chunk++) {
                int k = schedule.stageOf(r, chunk);
                layers += plan.partition().layersPerStage().get(k);
                var c = plan.stageCosts().get(k);
                forward += c.forwardSeconds();
                backward += c.backwardInputSeconds() + c.backwardWeightSeconds();
                allReduce += c.allReduce().seconds();
                optimizer += c.optimizerSeconds();
                staticBytes += c.staticBytes();
                raw += StageCosts.rawParameters(cm, plan.model().tiedEmbeddings(), plan.partition(), k, t);
            }
            long stageParams = Math.round(raw * cm.parametersForMemory() / cm.totalParameters());
            long peakMemory = timeline.peakMemoryBytes(r);
            fits &= peakMemory <= deviceMemory;
            stages.add(new Stage(r, layers, timeline.busySeconds(r) / step, peakMemory, timeline.peakInFlight(r),
                    forward, backward, allReduce, optimizer, staticBytes, stageParams));
        }
        double megatron = (double) (p - 1) / ((double) plan.virtualStages() * plan.microBatches());
        return new PlanReport(plan.name(), schedule.name(), p, plan.data(), t, plan.virtualStages(), plan.microBatchSize(),
                plan.microBatches(), plan.devices(), sequences, step, timeline.bubbleFraction(), megatron,
                samplesPerSecond, samplesPerSecond * seq, mfu, hfu, modelFlops, new Memory(params, grads, state, activations,
                total, minDevices), fits, deviceMemory, List.copyOf(stages), List.of(new Step(0, step)), List.of());
    }
}
