package dev.pipelab.cli;

import dev.pipelab.plan.Plan;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.schedule.ScheduleText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.concurrent.Callable;

/** {@code pipelab schedule SCENARIO}: the per-rank action grid in text. */
@Command(name = "schedule", mixinStandardHelpOptions = true,
        description = "Print the schedule's per-rank action grid (0F3 = stage 0, forward, micro-batch 3).")
final class ScheduleCommand implements Callable<Integer> {

    @Mixin
    ScenarioOptions scenario;

    @Option(names = "--text", description = "Print the plain text form (loadable as training.scheduleFile) instead of the grid.")
    boolean text;

    @Option(names = "--force", description = "Print even a schedule too large for this machine (the size guard).")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Scenario loaded = scenario.load();
        SizeGuard.plan("schedule", loaded, force);
        Plan plan = Planner.plan(loaded);
        spec.commandLine().getOut().print(text ? ScheduleText.format(plan.schedule()) : ScheduleText.grid(plan.schedule()));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
