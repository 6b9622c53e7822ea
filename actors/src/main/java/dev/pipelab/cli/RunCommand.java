package dev.pipelab.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.concurrent.Callable;

/**
 * {@code pipelab run}: the actor runtime. Not built yet (issue "The actor runtime"): this command says so
 * and exits 3 rather than pretending to run.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a scenario as a live pipeline of Pekko actors (not available yet: see the README's limits).")
final class RunCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "SCENARIO", description = "Scenario file (default: scenarios/quickstart.yaml).")
    String file;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("pipelab run: the actor runtime is not built yet. "
                + "'pipelab plan SCENARIO' gives the exact analytic timeline the runtime will reproduce.");
        return 3;
    }
}
