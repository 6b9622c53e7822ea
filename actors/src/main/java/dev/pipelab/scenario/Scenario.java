package dev.pipelab.scenario;

import dev.pipelab.fault.Fault;
import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RecoverySpec;
import java.util.List;
import java.util.Optional;

/**
 * A scenario file, bound: a model, a cluster and a parallelism plan. Built only by {@link ScenarioLoader},
 * which validates the file against {@code scenario.schema.json} first, so every record here holds values
 * the schema allows; cross-field rules (p within layers, ...) are checked by the loader too.
 * Optional keys are {@link Optional}s or carry the documented default; there is no null. {@code faults} are the file's
 * {@code faults:} entries as written (choices unresolved, not yet checked against a run: {@code fault.FaultCheck} does that
 * when the run's shape is known), {@code recovery} its {@code recovery:} settings with their defaults,
 * {@code randomFaults} its {@code faults.random:} rate model, if any.
 */
public record Scenario(String name, Model model, Hardware hardware, Parallelism parallelism, Batch batch,
                       Training training, Optional<Costs> costs, long seed, Optional<Real> real, Telemetry telemetry,
                       Cluster cluster, List<Fault> faults, RecoverySpec recovery, Optional<RandomFaults> randomFaults) {

    public Scenario {
        faults = List.copyOf(faults);
        if (recovery == null) throw new IllegalArgumentException("recovery must be given (RecoverySpec.NONE for the defaults)");
        if (randomFaults == null) throw new IllegalArgumentException("randomFaults must be given (Optional.empty() for none)");
    }

    /** A scenario without random faults ({@code faults.random}). */
    public Scenario(String name, Model model, Hardware hardware, Parallelism parallelism, Batch batch, Training training,
                    Optional<Costs> costs, long seed, Optional<Real> real, Telemetry telemetry, Cluster cluster, List<Fault> faults,
                    RecoverySpec recovery) {
        this(name, model, hardware, parallelism, batch, training, costs, seed, real, telemetry, cluster, faults, recovery, Optional.empty());
    }

    /** A scenario without faults, recovering with the defaults ({@link RecoverySpec#NONE}). */
    public Scenario(String name, Model model, Hardware hardware, Parallelism parallelism, Batch batch, Training training,
                    Optional<Costs> costs, long seed, Optional<Real> real, Telemetry telemetry, Cluster cluster) {
        this(name, model, hardware, parallelism, batch, training, costs, seed, real, telemetry, cluster, List.of(), RecoverySpec.NONE);
    }

    /** A scenario without a cluster section (placement {@code pack}). */
    public Scenario(String name, Model model, Hardware hardware, Parallelism parallelism, Batch batch, Training training,
                    Optional<Costs> costs, long seed, Optional<Real> real, Telemetry telemetry) {
        this(name, model, hardware, parallelism, batch, training, costs, seed, real, telemetry, Cluster.PACK);
    }

    /** A scenario without a telemetry section (level {@code auto}). */
    public Scenario(String name, Model model, Hardware hardware, Parallelism parallelism, Batch batch, Training training,
                    Optional<Costs> costs, long seed, Optional<Real> real) {
        this(name, model, hardware, parallelism, batch, training, costs, seed, real, Telemetry.AUTO);
    }

    /** A scenario without a real section (emulated numerics) nor a telemetry section. */
    public Scenario(String name, Model model, Hardware hardware, Parallelism parallelism, Batch batch, Training training,
                    Optional<Costs> costs, long seed) {
        this(name, model, hardware, parallelism, batch, training, costs, seed, Optional.empty());
    }

    /** Whether the stages really train the {@link Real} model ({@code training.numerics: real}). */
    public boolean realNumerics() {
        return training.numerics().equals("real");
    }

    /**
     * The model: a preset, optionally with some shapes overridden, or a custom model given by shapes.
     * {@code parameters} overrides the computed parameter count for memory (the article's 70e9).
     */
    public record Model(Optional<String> preset, Optional<Integer> seqLength, Optional<Double> parameters,
                        Optional<Integer> layers, Optional<Integer> hidden, Optional<Integer> heads,
                        Optional<Integer> kvHeads, Optional<Integer> ffn, Optional<Integer> vocab,
                        Optional<String> mlp, Optional<Boolean> tiedEmbeddings) {}

    /**
     * The cluster. {@code efficiency} divides every kernel's roofline time (docs/cost-model.md; default 0.5,
     * {@code pipelab calibrate} fits it from a measured step); {@code attention} is {@code materialised} or
     * {@code flash}; {@code tensorParallelOverlap} is the fraction of the tensor-parallel collectives hidden behind
     * the GEMMs (0: Megatron-LM 2021, none); {@code dataParallelOverlap} runs the gradient all-reduce in buckets
     * during the last micro-batch's backward (PyTorch DDP) instead of after it. {@code frameworkOverheadGB}, when
     * given, replaces the documented default of the memory a process holds besides its tensors (docs/memory.md).
     * {@code p2pScatterGather} sends each pipeline message as t chunks, one per tensor rank and link, all-gathered by
     * the receiver on the intra-node link (Narayanan et al. 2021 §4.1; off by default, as before the key existed).
     */
    public record Hardware(String device, int devicesPerNode, String intraNode, String interNode, double efficiency,
                           String attention, double tensorParallelOverlap, boolean dataParallelOverlap,
                           Optional<Double> frameworkOverheadGB, boolean p2pScatterGather) {

        /**
         * Materialised attention, no overlap of tensor- or data-parallel communication, the default framework overhead,
         * whole point-to-point messages.
         */
        public Hardware(String device, int devicesPerNode, String intraNode, String interNode, double efficiency) {
            this(device, devicesPerNode, intraNode, interNode, efficiency, "materialised", 0.0, false, Optional.empty(), false);
        }
    }

    /**
     * The parallelism plan. {@code partition} is {@code uniform} or {@code balanced}; {@code layersPerStage},
     * when given, places layers explicitly (one entry per model stage, p·v entries, summing to the layers);
     * {@code zero} is the ZeRO stage 0 to 3 (1: Megatron-LM's distributed optimizer).
     */
    public record Parallelism(int pipeline, int data, int tensor, int virtualStages, boolean sequenceParallel,
                              String partition, Optional<List<Integer>> layersPerStage, int zero) {

        /** No ZeRO sharding. */
        public Parallelism(int pipeline, int data, int tensor, int virtualStages, boolean sequenceParallel,
                           String partition, Optional<List<Integer>> layersPerStage) {
            this(pipeline, data, tensor, virtualStages, sequenceParallel, partition, layersPerStage, 0);
        }
    }

    /** Micro-batch size b (sequences) and micro-batches per step m, per data-parallel replica. */
    public record Batch(int microBatchSize, int microBatches) {}

    /**
     * How to train. {@code schedule}: gpipe, 1f1b, interleaved, zb-h1, zb-h2, zb-1p, zb-2p, zb-v, dualpipev, or custom with
     * {@code scheduleFile}; {@code recompute}: none, selective, full; {@code optimizer}: adam-mixed,
     * adam-fp32, sgd-mixed; {@code linkBuffer}: messages a link's receiver can buffer (absent: unbounded);
     * {@code onOutOfMemory}: fail or warn when a stage's live memory would exceed the device's; {@code memory}:
     * complete (every line of docs/memory.md) or article (the article's lines only).
     */
    public record Training(String schedule, String recompute, String optimizer, int steps,
                           Optional<Integer> linkBuffer, Optional<String> scheduleFile, String onOutOfMemory,
                           String numerics, String memory) {

        /** Complete memory accounting. */
        public Training(String schedule, String recompute, String optimizer, int steps, Optional<Integer> linkBuffer,
                        Optional<String> scheduleFile, String onOutOfMemory, String numerics) {
            this(schedule, recompute, optimizer, steps, linkBuffer, scheduleFile, onOutOfMemory, numerics, "complete");
        }

        /** Emulated numerics. */
        public Training(String schedule, String recompute, String optimizer, int steps, Optional<Integer> linkBuffer,
                        Optional<String> scheduleFile, String onOutOfMemory) {
            this(schedule, recompute, optimizer, steps, linkBuffer, scheduleFile, onOutOfMemory, "emulated");
        }
    }

    /**
     * Real-numerics mode: the small model ({@code kind} mlp or transformer; {@code outputs} is the MLP's classes,
     * {@code vocab} the transformer's vocabulary), its data ({@code dataKind} teacher or sequences, seeded by
     * {@code dataSeed}), the optimizer ({@code optimizer} sgd or adam and its hyper-parameters), the all-reduce
     * ({@code canonical} or {@code ring}) and where the final weights go.
     */
    public record Real(String kind, int width, int layers, int inputs, int outputs, int vocab, int sequenceLength, int heads,
                       String activation, boolean layerNorm, String loss, String dataKind, long dataSeed, String optimizer,
                       double learningRate, double momentum, double beta1, double beta2, double epsilon, String allReduce,
                       Optional<String> weightsOut) {}

    /**
     * How much each actor of a run records: {@code level} is {@code auto} (spans for small runs, steps above a size),
     * {@code off}, {@code steps} or {@code spans}.
     */
    public record Telemetry(String level) {
        /** The default: the run's size decides. */
        public static final Telemetry AUTO = new Telemetry("auto");
    }

    /**
     * How {@code pipelab run --cluster} deploys the run on worker JVMs: {@code placement} is {@code pack},
     * {@code spread} or {@code explicit}; {@code workers} is the explicit map, one list per replica of one worker index
     * per rank (empty when not given). Deployment only: it never changes a virtual-time number.
     */
    public record Cluster(String placement, List<List<Integer>> workers) {
        /** The default: each replica's ranks together on as few workers as their slots allow. */
        public static final Cluster PACK = new Cluster("pack", List.of());

        public Cluster {
            workers = workers.stream().map(List::copyOf).toList();
        }
    }

    /**
     * Profiled per-micro-batch times that replace the cost model. Each list has one entry (all stages) or
     * one per model stage. Absent lists fall back to the cost model.
     */
    public record Costs(Optional<List<Double>> forwardSeconds, Optional<List<Double>> backwardInputSeconds,
                        Optional<List<Double>> backwardWeightSeconds, Optional<List<Double>> recomputeSeconds,
                        Optional<List<Double>> p2pSeconds, Optional<Double> allReduceSeconds,
                        Optional<Double> optimizerSeconds) {}
}
