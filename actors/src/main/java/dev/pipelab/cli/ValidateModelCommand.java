package dev.pipelab.cli;

import dev.pipelab.plan.MegatronTable1;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code pipelab validate-model}: the time model against Megatron-LM's Table 1 (Narayanan et al. 2021), one
 * efficiency fitted on the smallest row, the other nine predicted.
 */
@Command(name = "validate-model", mixinStandardHelpOptions = true,
        description = "Predict the achieved TFLOP/s per GPU of the ten runs of Megatron-LM's Table 1 (Narayanan et al. 2021, "
                + "1.7B to 1T parameters on A100-80GB) with one efficiency fitted on the smallest row; print predicted vs "
                + "published and the errors over the other nine.")
final class ValidateModelCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        MegatronTable1.Result r = MegatronTable1.run();
        out.printf(Locale.ROOT, "pipelab validate-model: Narayanan et al. 2021 (Megatron-LM), Table 1, on a100-80gb%n");
        out.printf(Locale.ROOT, "efficiency %.4f, fitted on the first row only; full recomputation, materialised attention, "
                + "FLOPs by the paper's eq. 3%n%n", r.efficiency());
        out.printf(Locale.ROOT, "%-9s %2s %3s %4s %5s %5s %3s %2s %-11s %4s %10s %10s %10s %8s%n", "model", "t", "p", "d",
                "GPUs", "batch", "b", "v", "schedule", "m", "step", "predicted", "published", "error");
        for (MegatronTable1.Prediction p : r.predictions()) {
            MegatronTable1.Row row = p.row();
            boolean calibration = p == r.predictions().get(0);
            out.printf(Locale.ROOT, "%-9s %2d %3d %4d %5d %5d %3d %2d %-11s %4d %10s %10.1f %10.0f %7.1f%%%s%n",
                    row.preset().substring(4), row.tensor(), row.pipeline(), row.data(), row.gpus(), row.batch(),
                    row.microBatchSize(), row.virtualStages(), row.schedule(), row.microBatches(),
                    Format.seconds(p.stepSeconds()), p.tflopsPerGpu(), row.publishedTflops(), 100 * p.relativeError(),
                    calibration ? "  (calibration row)" : "");
        }
        out.printf(Locale.ROOT, "%n|error| over the other %d rows: mean %.1f%%, median %.1f%%, max %.1f%% "
                        + "(target: median <= 5%%, max <= 10%%)%n", r.validationErrors().size(), 100 * r.meanAbsError(),
                100 * r.medianAbsError(), 100 * r.maxAbsError());
        return 0;
    }
}
