package dev.pipelab.cli;

import dev.pipelab.plan.Calibration;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.Scenario;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code pipelab calibrate SCENARIO --step-seconds X}: fits {@code hardware.efficiency} to a measured step (or to the
 * per-phase times of the scenario's {@code costs} block), prints the residual and the calibrated hardware block.
 */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = "Fit hardware.efficiency to a measured step time (--step-seconds) or to the per-phase times in the "
                + "scenario's costs block (a profiler's F, B, W, recompute seconds); print the residual and the calibrated "
                + "hardware block as YAML for the scenario.")
final class CalibrateCommand implements Callable<Integer> {

    @Mixin
    ScenarioOptions scenario;

    @Option(names = "--step-seconds", paramLabel = "SECONDS",
            description = "A measured step time of this scenario's plan, in seconds.")
    Double stepSeconds;

    @Option(names = "--out", paramLabel = "FILE", description = "Also write the calibrated hardware block to FILE.")
    Path outFile;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (stepSeconds != null && !(stepSeconds > 0 && stepSeconds < Double.POSITIVE_INFINITY)) {
            throw new UserException("--step-seconds must be a number > 0, got " + stepSeconds);
        }
        Scenario loaded = scenario.load();
        SizeGuard.plan("calibrate", loaded, false);
        Optional<Calibration.Fit> fit;
        String measured;
        if (stepSeconds != null) {
            fit = Calibration.toStep(loaded, stepSeconds);
            measured = "a step of " + Format.seconds(stepSeconds);
            if (fit.isEmpty()) {
                throw new UserException("--step-seconds " + stepSeconds + ": no efficiency in (0, 1] gives this step; "
                        + "at efficiency 1 the model's step is " + Format.seconds(stepAt(loaded, 1.0))
                        + ", at " + Calibration.MIN_EFFICIENCY + " it is " + Format.seconds(stepAt(loaded, Calibration.MIN_EFFICIENCY)));
            }
        } else if (loaded.costs().isPresent()) {
            fit = Calibration.toPhases(loaded);
            measured = "the per-phase times of the scenario's costs block";
            if (fit.isEmpty()) {
                throw new UserException("costs: none of forwardSeconds, backwardInputSeconds, backwardWeightSeconds, "
                        + "recomputeSeconds fits an efficiency > 0");
            }
            if (fit.get().efficiency() > 1) {
                throw new UserException(String.format(Locale.ROOT, "costs: the measured phases are faster than the model "
                        + "allows at efficiency 1 (they fit %.3f); check the measurement or the scenario", fit.get().efficiency()));
            }
        } else {
            throw new UserException("calibrate: give --step-seconds SECONDS, or per-phase times in the scenario's costs block");
        }
        Calibration.Fit f = fit.get();
        PrintWriter out = spec.commandLine().getOut();
        Scenario.Hardware h = loaded.hardware();
        out.printf(Locale.ROOT, "pipelab calibrate: %s on %s, fitted to %s%n%n", loaded.name(), h.device(), measured);
        out.printf(Locale.ROOT, "  hardware.efficiency  %.4f (the scenario has %.4f)%n", f.efficiency(), h.efficiency());
        out.printf(Locale.ROOT, "  %-26s %12s %12s %9s%n", "residual", "measured", "fitted", "error");
        for (Calibration.Point p : f.points()) {
            out.printf(Locale.ROOT, "  %-26s %12s %12s %8.2f%%%n", p.what(), Format.seconds(p.measuredSeconds()),
                    Format.seconds(p.fittedSeconds()), 100 * p.relativeError());
        }
        out.printf(Locale.ROOT, "  rms relative error %.2f%%%s%n%n", 100 * f.rmsRelativeError(),
                f.points().size() == 1 ? " (one measurement fixes the one constant: no residual to learn from)" : "");
        String yaml = yaml(h, f.efficiency(), loaded.name(), measured);
        out.print(yaml);
        if (outFile != null) {
            Files.writeString(outFile, yaml);
            out.printf(Locale.ROOT, "%nwritten to %s%n", outFile);
        }
        return 0;
    }

    private static double stepAt(Scenario s, double efficiency) {
        return Planner.plan(Calibration.withEfficiency(Calibration.modelledScenario(s), efficiency))
                .evaluate().stepTimeSeconds();
    }

    /** The calibrated hardware block: every key of the scenario's hardware, with the fitted efficiency. */
    static String yaml(Scenario.Hardware h, double efficiency, String name, String measured) {
        return String.format(Locale.ROOT, """
                # pipelab calibrate: the hardware of %s, fitted to %s.
                # Replace the scenario's hardware: block with this one (or pass --set hardware.efficiency=%.4f).
                hardware:
                  device: %s
                  devicesPerNode: %d
                  intraNode: %s
                  interNode: %s
                  efficiency: %.4f
                  attention: %s
                  tensorParallelOverlap: %s
                  dataParallelOverlap: %s
                  p2pScatterGather: %s
                """, name, measured, efficiency, h.device(), h.devicesPerNode(), h.intraNode(), h.interNode(), efficiency,
                h.attention(), h.tensorParallelOverlap(), h.dataParallelOverlap(), h.p2pScatterGather())
                // a scenario's own framework overhead belongs to its hardware too (docs/memory.md)
                + h.frameworkOverheadGB().map(gb -> String.format(Locale.ROOT, "  frameworkOverheadGB: %s%n", gb)).orElse("");
    }
}
