package dev.pipelab.cli;

import dev.pipelab.plan.Plan;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.schedule.Action;
import dev.pipelab.schedule.PyTorchCsv;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.ScheduleText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code pipelab schedule SCENARIO [--format grid|text|pytorch-csv]}: the per-rank action grid in text. */
@Command(name = "schedule", mixinStandardHelpOptions = true,
        description = "Print the schedule's per-rank action grid (0F3 = stage 0, forward, micro-batch 3).")
final class ScheduleCommand implements Callable<Integer> {

    @Mixin
    ScenarioOptions scenario;

    @Option(names = "--text", description = "Print the plain text form (loadable as training.scheduleFile) instead of the grid; same as --format text.")
    boolean text;

    static final List<String> FORMATS = List.of("grid", "text", "pytorch-csv");

    @Option(names = "--format", paramLabel = "FORMAT", description = "grid (default), text (pipelab's text form) or "
            + "pytorch-csv (the CSV torch.distributed.pipelining's _load_csv reads; loadable as training.scheduleFile x.csv).")
    String format;

    @Option(names = "--force", description = "Print even a schedule too large for this machine (the size guard).")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (format != null && !FORMATS.contains(format)) {
            throw new UserException("--format must be grid, text or pytorch-csv, got '" + format + "'");
        }
        if (text && format != null && !format.equals("text")) {
            throw new UserException("--text and --format " + format + " ask for two formats: give one");
        }
        String chosen = text ? "text" : format == null ? "grid" : format;
        Scenario loaded = scenario.load();
        SizeGuard.plan("schedule", loaded, force);
        Plan plan = Planner.plan(loaded);
        Schedule schedule = plan.schedule();
        PrintWriter out = spec.commandLine().getOut();
        switch (chosen) {
            case "text" -> out.print(ScheduleText.format(schedule));
            case "pytorch-csv" -> {
                out.print(PyTorchCsv.format(schedule));
                if (schedule.actionsByRank().stream().flatMap(List::stream).anyMatch(a -> a.kind() == Action.Kind.R)) {
                    // stdout stays a loadable file; the note goes to stderr
                    PrintWriter err = spec.commandLine().getErr();
                    err.println("pipelab schedule: the recompute (R) actions are left out of the CSV: PyTorch has no action"
                            + " for them (its stages recompute inside the module, with activation checkpointing)");
                    err.flush();
                }
            }
            default -> out.print(ScheduleText.grid(schedule));
        }
        out.flush();
        return 0;
    }
}
