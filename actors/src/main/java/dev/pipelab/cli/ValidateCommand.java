package dev.pipelab.cli;

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
        spec.commandLine().getOut().printf(Locale.ROOT, "%s: ok (%s, p=%d d=%d t=%d v=%d, %s, m=%d, %d devices%s)%n",
                scenario.file, plan.model().name(), plan.pipeline(), plan.data(), plan.tensor(), plan.virtualStages(),
                plan.schedule().name(), plan.microBatches(), plan.devices(),
                faults == 0 ? "" : ", " + faults + (faults == 1 ? " fault" : " faults"));
        return 0;
    }
}
