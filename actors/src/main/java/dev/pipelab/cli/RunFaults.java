package dev.pipelab.cli;

import dev.pipelab.fault.Fault;
import dev.pipelab.fault.FaultCheck;
import dev.pipelab.fault.FaultChoice;
import dev.pipelab.fault.FaultProblem;
import dev.pipelab.fault.FaultSyntax;
import dev.pipelab.fault.RunShape;
import dev.pipelab.plan.Plan;
import dev.pipelab.scenario.LoadedScenario;
import dev.pipelab.scenario.ScenarioError;
import dev.pipelab.scenario.ScenarioException;
import dev.pipelab.stage.StageProgram;

import java.util.ArrayList;
import java.util.List;

/**
 * The faults of one run: the scenario's {@code faults:} entries, then each {@code --fault} in the order given, checked
 * against the run ({@link FaultCheck}) and with their choices resolved ({@link FaultChoice}). A problem fails the command
 * before anything is written, every problem at once, as a {@link ScenarioException} (exit 2): an entry of the file
 * located in the file ({@code faulty.yaml:12:13: faults[1].target: ...}), an option named by its occurrence
 * ({@code --fault #2: at: ...}).
 */
final class RunFaults {

    private RunFaults() {}

    /** Reads each {@code --fault} (numbered from 1); the problems of all of them at once. */
    static List<Fault> parse(List<String> specs) {
        List<Fault> faults = new ArrayList<>();
        List<ScenarioError> errors = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) {
            FaultSyntax.Parsed parsed = FaultSyntax.parse(specs.get(i), "--fault #" + (i + 1));
            parsed.fault().ifPresent(faults::add);
            parsed.problems().forEach(p -> errors.add(optionError(p)));
        }
        if (!errors.isEmpty()) throw new ScenarioException(errors);
        return List.copyOf(faults);
    }

    /**
     * What faults can hit in a run of {@code plan} for {@code steps} steps on {@code workers} worker JVMs (0: embedded):
     * the pipeline links are those the schedule sends messages on ({@link StageProgram#outgoingRanks()}, as the
     * trainer creates them), the same in every replica.
     */
    static RunShape shape(Plan plan, int steps, int workers) {
        List<List<Integer>> outgoing = StageProgram.all(plan.schedule(), plan.stageCosts()).stream()
                .map(StageProgram::outgoingRanks).toList();
        return RunShape.of(plan.data(), steps, outgoing, workers);
    }

    /** Checks the scenario's faults and the options' against the run; throws every problem at once. */
    static void check(LoadedScenario loaded, List<Fault> options, RunShape shape) {
        List<ScenarioError> errors = new ArrayList<>();
        for (FaultProblem p : FaultCheck.check(loaded.scenario().faults(), shape)) {
            errors.add(loaded.source().errorAt(p.path(), p.message()));
        }
        for (FaultProblem p : FaultCheck.check(options, shape)) errors.add(optionError(p));
        if (!errors.isEmpty()) throw new ScenarioException(errors);
    }

    /** The run's faults, checked and with every choice resolved to concrete targets: the file's, then the options'. */
    static List<Fault> resolve(LoadedScenario loaded, List<Fault> options, RunShape shape) {
        check(loaded, options, shape);
        List<Fault> all = new ArrayList<>(loaded.scenario().faults());
        all.addAll(options);
        return FaultChoice.resolve(all, shape);
    }

    /** A problem of {@code --fault #N}, named as the user wrote it: {@code --fault #2: at: ...}. */
    private static ScenarioError optionError(FaultProblem p) {
        return new ScenarioError(p.where(), 0, 0, FaultSyntax.optionKey(p.key()), p.message());
    }
}
