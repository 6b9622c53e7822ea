package dev.pipelab.plan;

import dev.pipelab.model.ModelPresets;
import dev.pipelab.model.ModelSpec;
import dev.pipelab.scenario.Scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Megatron-LM's weak-scaling table as a validation of the time model: Narayanan et al. 2021, "Efficient
 * Large-Scale Language Model Training on GPU Clusters Using Megatron-LM", Table 1 (model shapes, tensor- and
 * pipeline-parallel size, GPUs, batch size, achieved teraFLOP/s per GPU), run as the paper ran it. Invariant: every
 * row's configuration is the published one, and all rows share one efficiency, fitted on the first row only.
 *
 * <p>How each row ran (the paper's §5.1 and the script NVIDIA published to reproduce the table,
 * Megatron-LM {@code examples/sc21/run_table_1.sh}): A100-80GB on Selene (DGX A100 nodes of 8 GPUs, NVLink 3 inside,
 * eight 200 Gb/s HDR InfiniBand adapters per node); sequence length 2,048, vocabulary 51,200; full activation
 * recomputation ({@code --recompute-method uniform}); the interleaved schedule where the script sets
 * {@code --num-layers-per-virtual-pipeline-stage} (v = layers / p / that number), else 1F1B; the script's micro-batch
 * size; no sequence parallelism (it came later, Korthikanti et al. 2022) and materialised attention (FlashAttention
 * came in 2022), no tensor-parallel overlap; pipeline messages scattered across the tensor ranks and gathered on
 * NVLink (§4.1, on by default in Megatron-LM then: {@link #SCATTER_GATHER}). FLOPs are counted with the paper's eq. 3,
 * {@code F = 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h))}, which includes the recomputed forward.
 */
public final class MegatronTable1 {

    private MegatronTable1() {}

    /**
     * One row.
     *
     * @param preset            the model preset (Table 1's heads, hidden size, layers)
     * @param tensor            t
     * @param pipeline          p
     * @param gpus              n
     * @param batch             global batch B
     * @param microBatchSize    b (run_table_1.sh MBS)
     * @param virtualStages     v (layers / p / num-layers-per-virtual-pipeline-stage; 1 when unset)
     * @param torchDdp          run_table_1.sh DDP=torch (gradient all-reduce overlapped with the backward), else DDP=local
     * @param publishedTflops   achieved teraFLOP/s per GPU
     */
    public record Row(String preset, int tensor, int pipeline, int gpus, int batch, int microBatchSize, int virtualStages,
                      boolean torchDdp, double publishedTflops) {

        public int data() {
            return gpus / (tensor * pipeline);
        }

        /** Micro-batches per replica per step: {@code B / (d · b)}. */
        public int microBatches() {
            return batch / (data() * microBatchSize);
        }

        public String schedule() {
            return virtualStages > 1 ? "interleaved" : "1f1b";
        }

        public ModelSpec model() {
            return ModelPresets.find(preset).orElseThrow();
        }
    }

    /** The ten rows of Table 1, in its order (smallest first). */
    public static final List<Row> ROWS = List.of(
            new Row("gpt-1.7b", 1, 1, 32, 512, 16, 1, true, 137),
            new Row("gpt-3.6b", 2, 1, 64, 512, 16, 1, true, 138),
            new Row("gpt-7.5b", 4, 1, 128, 512, 16, 1, true, 142),
            new Row("gpt-18b", 8, 1, 256, 1024, 8, 1, true, 135),
            new Row("gpt-39b", 8, 2, 512, 1536, 4, 1, false, 138),
            new Row("gpt-76b", 8, 4, 1024, 1792, 2, 60 / 4 / 5, false, 140),
            new Row("gpt-145b", 8, 8, 1536, 2304, 2, 80 / 8 / 5, false, 148),
            new Row("gpt-310b", 8, 16, 1920, 2160, 1, 96 / 16 / 3, false, 155),
            new Row("gpt-530b", 8, 35, 2520, 2520, 1, 105 / 35 / 1, false, 163),
            new Row("gpt-1t", 8, 64, 3072, 3072, 1, 1, false, 163));

    /**
     * The rows send pipeline messages with Megatron-LM's scatter/gather optimization (§4.1): it was on by default
     * ({@code megatron/arguments.py} of 2021 has only {@code --no-scatter-gather-tensors-in-pipeline}, a store_false
     * into {@code scatter_gather_tensors_in_pipeline}), {@code run_table_1.sh} does not pass that flag, and the same
     * scripts' {@code run_figure_18.sh} passes it only for its "without" runs ({@code SCATTER_GATHER=NO}).
     */
    static final boolean SCATTER_GATHER = true;

    /** The device, nodes and links of Selene (A100-80GB, DGX A100). */
    static Scenario.Hardware hardware(double efficiency, boolean overlap, boolean scatterGather) {
        return new Scenario.Hardware("a100-80gb", 8, "nvlink3", "ib-hdr", efficiency, "materialised", 0.0, overlap, Optional.empty(),
                scatterGather);
    }

    /** The row as a scenario at {@code efficiency}, with or without the scatter/gather optimization. */
    public static Scenario scenario(Row row, double efficiency, boolean scatterGather) {
        Scenario.Model model = new Scenario.Model(Optional.of(row.preset()), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());
        Scenario.Parallelism par = new Scenario.Parallelism(row.pipeline(), row.data(), row.tensor(), row.virtualStages(),
                false, "uniform", Optional.empty());
        Scenario.Training training = new Scenario.Training(row.schedule(), "full", "adam-mixed", 1, Optional.empty(),
                Optional.empty(), "warn");
        return new Scenario("megatron-table1-" + row.preset(), model, hardware(efficiency, row.torchDdp(), scatterGather), par,
                new Scenario.Batch(row.microBatchSize(), row.microBatches()), training, Optional.empty(), 0);
    }

    /** The paper's eq. 3: FLOPs of one iteration, recomputation included. */
    public static double eq3Flops(Row row) {
        ModelSpec m = row.model();
        double s = m.seqLength();
        double l = m.layers();
        double h = m.hidden();
        double v = m.vocab();
        return 96 * row.batch() * s * l * h * h * (1 + s / (6 * h) + v / (16 * l * h));
    }

    /** One row's prediction at the fitted efficiency. */
    public record Prediction(Row row, double stepSeconds, double tflopsPerGpu) {
        public double relativeError() {
            return (tflopsPerGpu - row.publishedTflops()) / row.publishedTflops();
        }
    }

    /** The result: the fitted efficiency and every row's prediction (the first is the calibration row). */
    public record Result(double efficiency, List<Prediction> predictions) {

        /** |relative error| of the rows other than the calibration row, in table order. */
        public List<Double> validationErrors() {
            return predictions.subList(1, predictions.size()).stream().map(p -> Math.abs(p.relativeError())).toList();
        }

        public double meanAbsError() {
            return validationErrors().stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        }

        public double medianAbsError() {
            List<Double> sorted = validationErrors().stream().sorted().toList();
            int n = sorted.size();
            return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
        }

        public double maxAbsError() {
            return validationErrors().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        }
    }

    /** Fits the efficiency on the first row (its published throughput gives its step time), then predicts every row. */
    public static Result run() {
        return run(SCATTER_GATHER);
    }

    /** {@link #run()} with or without the scatter/gather optimization, for comparison. */
    public static Result run(boolean scatterGather) {
        Row first = ROWS.get(0);
        double firstStep = eq3Flops(first) / (first.gpus() * first.publishedTflops() * 1e12);
        double efficiency = Calibration.toStep(scenario(first, 0.5, scatterGather), firstStep)
                .orElseThrow(() -> new IllegalStateException("the first row cannot be fitted with an efficiency in (0, 1]"))
                .efficiency();
        List<Prediction> out = new ArrayList<>();
        for (Row row : ROWS) {
            double step = Planner.plan(scenario(row, efficiency, scatterGather), false).evaluate().stepTimeSeconds();
            out.add(new Prediction(row, step, eq3Flops(row) / (step * row.gpus()) / 1e12));
        }
        return new Result(efficiency, out);
    }
}
