package dev.pipelab.plan;

import dev.pipelab.scenario.Scenario;
import dev.pipelab.schedule.StageCost;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.DoubleUnaryOperator;

/**
 * Fits {@code hardware.efficiency} to measured times. Invariant: the fitted scenario differs from the given one
 * in {@code hardware.efficiency} only, and the fit uses the operation-level model (profiled {@code costs} are what
 * is fitted to, never what is planned with).
 *
 * <p>Every modelled duration is {@code device / efficiency + links} (StageCosts): kernels slow down with a lower
 * efficiency, collectives and point-to-point transfers do not. One measured step time fixes the one constant
 * (bisection on a step time that falls as efficiency rises); per-phase times from a profiler fix it in the
 * least-squares sense, {@code 1/e = Σ (y - links)·device / Σ device²}, and leave a residual.
 */
public final class Calibration {

    /** The lowest efficiency a fit returns; below it a measured time says more about the measurement than the device. */
    public static final double MIN_EFFICIENCY = 1e-3;

    private Calibration() {}

    /**
     * A fit: the efficiency, and for each measured figure its measured and fitted value.
     *
     * @param efficiency the fitted {@code hardware.efficiency}
     * @param points     what was measured, with the fitted model's value
     */
    public record Fit(double efficiency, List<Point> points) {

        public Fit {
            points = List.copyOf(points);
        }

        /** Root mean square of the relative errors of the points (0 when one figure fixed the one constant). */
        public double rmsRelativeError() {
            double sum = 0;
            for (Point p : points) sum += p.relativeError() * p.relativeError();
            return Math.sqrt(sum / points.size());
        }
    }

    /** One measured figure: {@code what} (say {@code step} or {@code forwardSeconds[2]}), measured and fitted seconds. */
    public record Point(String what, double measuredSeconds, double fittedSeconds) {
        public double relativeError() {
            return (fittedSeconds - measuredSeconds) / measuredSeconds;
        }
    }

    /** The scenario with another {@code hardware.efficiency}. */
    public static Scenario withEfficiency(Scenario s, double efficiency) {
        Scenario.Hardware h = s.hardware();
        Scenario.Hardware hardware = new Scenario.Hardware(h.device(), h.devicesPerNode(), h.intraNode(), h.interNode(),
                efficiency, h.attention(), h.tensorParallelOverlap(),
                h.dataParallelOverlap(), h.frameworkOverheadGB(), h.p2pScatterGather());
        return new Scenario(s.name(), s.model(), hardware, s.parallelism(), s.batch(), s.training(), s.costs(), s.seed(),
                s.real(), s.telemetry(), s.cluster(), s.faults(), s.recovery(), s.randomFaults());
    }

    /** The scenario without profiled costs: every duration from the model. */
    public static Scenario modelledScenario(Scenario s) {
        return new Scenario(s.name(), s.model(), s.hardware(), s.parallelism(), s.batch(), s.training(), Optional.empty(),
                s.seed(), s.real(), s.telemetry(), s.cluster(), s.faults(), s.recovery(), s.randomFaults());
    }

    /**
     * The efficiency at which the modelled step takes {@code stepSeconds}; empty if even efficiency 1 is slower
     * than that (the measurement is faster than the roofline allows) or {@link #MIN_EFFICIENCY} is faster.
     */
    public static Optional<Fit> toStep(Scenario scenario, double stepSeconds) {
        Scenario base = modelledScenario(scenario);
        DoubleUnaryOperator step = e -> Planner.plan(withEfficiency(base, e), false).evaluate().stepTimeSeconds();
        double lo = MIN_EFFICIENCY;
        double hi = 1.0;
        if (step.applyAsDouble(hi) > stepSeconds || step.applyAsDouble(lo) < stepSeconds) return Optional.empty();
        // the step time falls monotonically as efficiency rises: bisect to the last bit that changes it
        for (int i = 0; i < 100 && hi - lo > 1e-12; i++) {
            double mid = (lo + hi) / 2;
            if (step.applyAsDouble(mid) > stepSeconds) lo = mid;
            else hi = mid;
        }
        double e = (lo + hi) / 2;
        return Optional.of(new Fit(e, List.of(new Point("step", stepSeconds, step.applyAsDouble(e)))));
    }

    /**
     * The efficiency that fits the scenario's profiled {@code costs} (forward, backward-input, backward-weight and
     * recompute seconds per stage) best in the least-squares sense; empty when the scenario has none of them.
     */
    public static Optional<Fit> toPhases(Scenario scenario) {
        if (scenario.costs().isEmpty()) return Optional.empty();
        Scenario.Costs measured = scenario.costs().get();
        Scenario base = modelledScenario(scenario);
        // durations are device/e + links: at e = 1 and e = 1/2 they are device + links and 2·device + links
        List<StageCost> one = Planner.plan(withEfficiency(base, 1.0)).stageCosts();
        List<StageCost> half = Planner.plan(withEfficiency(base, 0.5)).stageCosts();
        List<double[]> rows = new ArrayList<>(); // {measured, device, links}
        List<String> names = new ArrayList<>();
        for (int k = 0; k < one.size(); k++) {
            add(rows, names, "forwardSeconds", measured.forwardSeconds(), k, one.get(k).forwardSeconds(), half.get(k).forwardSeconds());
            add(rows, names, "backwardInputSeconds", measured.backwardInputSeconds(), k, one.get(k).backwardInputSeconds(),
                    half.get(k).backwardInputSeconds());
            add(rows, names, "backwardWeightSeconds", measured.backwardWeightSeconds(), k, one.get(k).backwardWeightSeconds(),
                    half.get(k).backwardWeightSeconds());
            add(rows, names, "recomputeSeconds", measured.recomputeSeconds(), k, one.get(k).recomputeSeconds(),
                    half.get(k).recomputeSeconds());
        }
        double num = 0;
        double den = 0;
        for (double[] r : rows) {
            num += (r[0] - r[2]) * r[1];
            den += r[1] * r[1];
        }
        if (rows.isEmpty() || !(den > 0) || !(num > 0)) return Optional.empty();
        double e = den / num;
        List<Point> points = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            double[] r = rows.get(i);
            points.add(new Point(names.get(i), r[0], r[1] / e + r[2]));
        }
        return Optional.of(new Fit(e, points));
    }

    private static void add(List<double[]> rows, List<String> names, String key, Optional<List<Double>> values, int k,
                            double atOne, double atHalf) {
        if (values.isEmpty()) return;
        List<Double> list = values.get();
        if (list.size() != 1 && k >= list.size()) return;
        double y = list.size() == 1 ? list.get(0) : list.get(k);
        double device = atHalf - atOne;
        if (y == 0 && device == 0) return;
        rows.add(new double[] {y, device, 2 * atOne - atHalf});
        names.add(list.size() == 1 ? key : key + "[" + k + "]");
    }
}
