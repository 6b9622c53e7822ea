package dev.pipelab.cli;

import dev.pipelab.plan.Plan;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.LoadedScenario;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.scenario.ScenarioLoader;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The scenario argument and the overrides every command takes. */
final class ScenarioOptions {

    @Parameters(index = "0", paramLabel = "SCENARIO", description = "Scenario file (YAML or JSON).")
    Path file;

    @Option(names = "--set", paramLabel = "KEY.PATH=VALUE",
            description = "Override a scenario value, e.g. --set parallelism.pipeline=4 (repeatable).")
    List<String> sets = new ArrayList<>();

    @Option(names = "--device", paramLabel = "NAME", description = "Swap the device type, e.g. --device h100-80gb.")
    String device;

    Scenario load() {
        return loadWithSource().scenario();
    }

    /** The scenario with where each value was written, for errors found after loading (a fault's target). */
    LoadedScenario loadWithSource() {
        if (!Files.isRegularFile(file)) throw new UserException("no scenario file at " + file);
        List<String> all = new ArrayList<>(sets);
        if (device != null) all.add("hardware.device=" + device);
        return ScenarioLoader.loadWithSource(file, all);
    }

    Plan plan() {
        return Planner.plan(load());
    }
}
