package dev.pipelab.scenario;

import java.util.Objects;

/**
 * A valid scenario together with where its values were written: {@code source.errorAt(path, ...)} locates
 * any key path of {@code scenario}, so later steps (the planner) can raise errors that point into the file.
 */
public record LoadedScenario(Scenario scenario, ScenarioSource source) {

    public LoadedScenario {
        Objects.requireNonNull(scenario, "scenario");
        Objects.requireNonNull(source, "source");
    }
}
