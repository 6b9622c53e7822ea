package dev.pipelab.cli;

import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RunShape;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.LoadedScenario;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code pipelab validate SCENARIO}: every error at once with its path, the faults' against the planned run included;
 * exit 2 when there is one.
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Check a scenario file: every error at once, with its path in the file; exit code 2 on errors.")
final class ValidateCommand implements Callable<Integer> {

    @Mixin
    ScenarioOptions scenario;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        LoadedScenario loaded = scenario.loadWithSource();
        Plan plan = Planner.plan(loaded.scenario());
        // the faults against the planned run: which workers a cluster run will find is not known here, so node
        // targets are checked by pipelab run --cluster
        RunFaults.check(loaded, List.of(), RunFaults.shape(plan, plan.steps(), RunShape.UNKNOWN_WORKERS));
        int faults = loaded.scenario().faults().size();
        spec.commandLine().getOut().printf(Locale.ROOT, "%s: ok (%s, p=%d d=%d t=%d v=%d, %s, m=%d, %d devices%s%s)%n",
                scenario.file, plan.model().name(), plan.pipeline(), plan.data(), plan.tensor(), plan.virtualStages(),
                plan.schedule().name(), plan.microBatches(), plan.devices(),
                faults == 0 ? "" : ", " + faults + (faults == 1 ? " fault" : " faults"),
                loaded.scenario().randomFaults().map(r -> randomFaults(r, plan)).orElse(""));
        return 0;
    }

    /**
     * {@code , random faults llama3-54d x1000: MTBF 11.124 s}: the job's MTBF at the plan's size (its devices and nodes),
     * so that a scale can be checked before a run.
     */
    private static String randomFaults(RandomFaults r, Plan plan) {
        double mtbf = r.mtbfSeconds(new RandomFaults.Size(plan.devices(), plan.placement().nodes()));
        String scale = r.scale() == 1 ? "" : r.scale() == Math.rint(r.scale()) ? " x" + (long) r.scale() : " x" + r.scale();
        return ", random faults" + r.preset().map(p -> " " + p).orElse("") + scale + ": MTBF "
                + (Double.isInfinite(mtbf) ? "infinite" : mtbf >= 3600 ? String.format(Locale.ROOT, "%.3g h", mtbf / 3600) : Format.seconds(mtbf));
    }
}
