package dev.pipelab.cli;

import dev.pipelab.plan.Plan;
import dev.pipelab.plan.PlanReport;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.scenario.ScenarioLoader;
import dev.pipelab.schedule.Timeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code pipelab sweep SCENARIO --over key.path=v1,v2,...}: one plan per value, one row each: step time,
 * bubble, the first stage's stash and peak, point-to-point traffic, throughput.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Plan a scenario once per value of one key and print one row per value "
                + "(e.g. --over parallelism.pipeline=2,4,8,16,80).")
final class SweepCommand implements Callable<Integer> {

    @Mixin
    ScenarioOptions scenario;

    @Option(names = "--over", required = true, paramLabel = "KEY.PATH=V1,V2,...", description = "The key to vary and its values.")
    String over;

    @Option(names = "--force", description = "Sweep even values too large for this machine (the size guard).")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        int eq = over.indexOf('=');
        if (eq <= 0 || eq == over.length() - 1) throw new UserException("--over must look like key.path=v1,v2,..., got '" + over + "'");
        String key = over.substring(0, eq);
        String[] values = over.substring(eq + 1).split(",");
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "pipelab sweep: %s over %s%n%n", scenario.file, key);
        out.printf(Locale.ROOT, "%10s %10s %9s %10s %13s %13s %11s %13s %12s %7s %5s%n", key.substring(key.lastIndexOf('.') + 1),
                "step", "bubble", "rank-0 mbs", "rank-0 stash", "rank-0 peak", "p2p/step", "p2p on links", "tokens/s", "MFU", "fits");
        // every value is loaded and sized before the first is planned: a bad or huge one fails at once
        List<Scenario> scenarios = new ArrayList<>();
        for (String value : values) {
            List<String> sets = new ArrayList<>(scenario.sets);
            if (scenario.device != null) sets.add("hardware.device=" + scenario.device);
            sets.add(key + "=" + value.trim());
            scenarios.add(ScenarioLoader.load(scenario.file, sets));
        }
        SizeGuard.sweep(scenarios, force);
        Progress progress = new Progress(spec.commandLine().getErr(), "sweep: values");
        for (int i = 0; i < values.length; i++) {
            String value = values[i];
            progress.update(i, values.length);
            Plan plan = Planner.plan(scenarios.get(i));
            Timeline t = plan.evaluate();
            PlanReport r = PlanReport.of(plan, t);
            long bytes = 0;
            double linkSeconds = 0;
            for (int l = 0; l < t.linkCount(); l++) {
                bytes += t.linkBytes(l);
                linkSeconds += t.linkBusySeconds(l);
            }
            PlanReport.Stage first = r.stages().get(0);
            out.printf(Locale.ROOT, "%10s %10s %9s %10d %13s %13s %11s %13s %12s %7s %5s%n", value.trim(),
                    Format.seconds(r.stepTimeSeconds()), Format.percent(r.bubbleFraction()),
                    first.peakInFlightMicrobatches(), Format.gb(first.peakMemoryBytes() - first.staticBytes()),
                    Format.gb(first.peakMemoryBytes()), Format.bytes(bytes),
                    Format.seconds(linkSeconds), Format.count(r.tokensPerSecond()), Format.percent(r.mfu()),
                    r.fits() ? "yes" : "no");
        }
        progress.finish();
        return 0;
    }
}
