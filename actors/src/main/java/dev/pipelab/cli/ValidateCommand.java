package dev.pipelab.cli;

import dev.pipelab.plan.Plan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code pipelab validate SCENARIO}: every error at once with its path; exit 2 when there is one. */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Check a scenario file: every error at once, with its path in the file; exit code 2 on errors.")
final class ValidateCommand implements Callable<Integer> {

    @Mixin
    ScenarioOptions scenario;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Plan plan = scenario.plan();
        spec.commandLine().getOut().printf(Locale.ROOT, "%s: ok (%s, p=%d d=%d t=%d v=%d, %s, m=%d, %d devices)%n",
                scenario.file, plan.model().name(), plan.pipeline(), plan.data(), plan.tensor(), plan.virtualStages(),
                plan.schedule().name(), plan.microBatches(), plan.devices());
        return 0;
    }
}
