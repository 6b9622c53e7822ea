package dev.pipelab.cli;

import dev.pipelab.plan.Plan;
import dev.pipelab.plan.PlanReport;
import dev.pipelab.plan.Planner;
import dev.pipelab.plan.Search;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.scenario.ScenarioLoader;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Timeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code pipelab bench}: measured speed of the planner, printed with the machine it ran on. Speed targets are
 * checked here, never in timed unit tests.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure evaluator and search speed on this machine (plans/s, actions/s, search wall time).")
final class BenchCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "WHAT", defaultValue = "all",
            description = "evaluator, search, runtime, scale, wall, real, cluster or all (default ${DEFAULT-VALUE}; real and cluster "
                    + "only when named).")
    String what;

    @Option(names = "--seconds", defaultValue = "5", description = "Measured seconds per round (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--rounds", description = "Measured rounds, after one warm-up round (default 3); for runtime, rounds "
            + "of the three telemetry levels (default " + RuntimeBench.DEFAULT_ROUNDS + ").")
    Integer rounds;

    @Option(names = "--search-scenario", paramLabel = "FILE",
            description = "Scenario for the search benchmark (default: llama2-70b on 2,048 devices, global batch 1,024).")
    Path searchScenario;

    @Option(names = "--nodes", defaultValue = "3", paramLabel = "N",
            description = "For cluster: worker processes to start (default ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--scenario", paramLabel = "FILE",
            description = "For cluster: an emulated scenario to run, for its training.steps (default: llama2-70b t=8 p=8 d=2 "
                    + "m=64 1F1B+R, 100 steps).")
    Path clusterScenario;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (!List.of("evaluator", "search", "runtime", "scale", "wall", "real", "cluster", "all").contains(what)) {
            throw new UserException("bench: WHAT must be evaluator, search, runtime, scale, wall, real, cluster or all, got '" + what + "'");
        }
        if (nodes < 1 || nodes > ClusterCommand.Up.MAX_NODES) {
            throw new UserException("--nodes must be in 1.." + ClusterCommand.Up.MAX_NODES + ", got " + nodes);
        }
        if (!(seconds > 0) || (rounds != null && rounds < 1)) throw new UserException("--seconds must be > 0 and --rounds >= 1");
        int rounds = this.rounds != null ? this.rounds : 3;
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "machine: %d cores, %s %s, max heap %d MB%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"), Runtime.getRuntime().maxMemory() >> 20);
        boolean all = what.equals("all");
        // the rounds resolved above: the field is null without --rounds
        if (all || what.equals("evaluator")) evaluator(out, rounds);
        if (all || what.equals("search")) search(out, rounds);
        RuntimeBench runtime = new RuntimeBench(out, rounds);
        if (all || what.equals("runtime")) new RuntimeBench(out, this.rounds != null ? rounds : RuntimeBench.DEFAULT_ROUNDS).emulation();
        if (all || what.equals("scale")) runtime.scale();
        if (all || what.equals("wall")) runtime.wall(0.005);
        if (what.equals("real")) new RealBench(out, rounds).run();
        if (what.equals("cluster")) {
            Optional<Scenario> scenario = Optional.ofNullable(clusterScenario).map(f -> ScenarioLoader.load(f, List.of()));
            new ClusterBench(out, spec.commandLine().getErr(), rounds, nodes, scenario).run();
        }
        return 0;
    }

    /** llama2-70b, p=8, m=64 micro-batches of 1, 1F1B, d=1, t=1: 1,024 compute actions and 1,008 transfers. */
    static Scenario evaluatorScenario() {
        return new Scenario("bench-1f1b-p8-m64",
                new Scenario.Model(Optional.of("llama2-70b"), Optional.empty(), Optional.empty(), Optional.empty(),
                        Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                        Optional.empty(), Optional.empty()),
                new Scenario.Hardware("a100-80gb", 8, "nvlink3", "ib-hdr", 0.5),
                new Scenario.Parallelism(8, 1, 1, 1, false, "uniform", Optional.empty()),
                new Scenario.Batch(1, 64),
                new Scenario.Training("1f1b", "selective", "adam-mixed", 1, Optional.empty(), Optional.empty(), "warn"),
                Optional.empty(), 0);
    }

    private void evaluator(PrintWriter out, int rounds) {
        Plan plan = Planner.plan(evaluatorScenario());
        int actions = plan.schedule().size();
        out.printf(Locale.ROOT, "%nevaluator: %s, p=8 m=64 1F1B (+R), %d actions per step, one thread%n", "llama2-70b", actions);
        out.printf(Locale.ROOT, "  %-8s %14s %16s %18s%n", "round", "plans/s", "actions/s", "plan+report/s");
        for (int round = 0; round <= rounds; round++) {
            double evals = rate(() -> Evaluator.evaluate(plan.schedule(), plan.stageCosts(), plan.network(), plan.linkBuffer()));
            double full = rate(() -> {
                Plan p = Planner.plan(evaluatorScenario());
                Timeline t = p.evaluate();
                return PlanReport.of(p, t);
            });
            out.printf(Locale.ROOT, "  %-8s %,14.0f %,16.0f %,18.0f%n", round == 0 ? "warm-up" : Integer.toString(round),
                    evals, evals * actions, full);
        }
    }

    private void search(PrintWriter out, int rounds) {
        Scenario base = searchScenario != null ? ScenarioLoader.load(searchScenario, List.of()) : searchDefault();
        out.printf(Locale.ROOT, "%nsearch: %s, %d worker threads%n", base.name(), Runtime.getRuntime().availableProcessors());
        out.printf(Locale.ROOT, "  %-8s %12s %10s %10s %14s%n", "round", "candidates", "automatic", "seconds", "plans/s");
        for (int round = 0; round <= rounds; round++) {
            long t0 = System.nanoTime();
            Search.Result r = Search.run(base);
            double s = (System.nanoTime() - t0) / 1e9;
            out.printf(Locale.ROOT, "  %-8s %,12d %,10d %10.2f %,14.0f%n", round == 0 ? "warm-up" : Integer.toString(round),
                    r.evaluated(), r.automatic(), s, (r.evaluated() + r.automatic()) / s);
        }
    }

    static Scenario searchDefault() {
        Scenario s = evaluatorScenario();
        return new Scenario("bench-search-llama2-70b-2048", s.model(), s.hardware(),
                new Scenario.Parallelism(8, 32, 8, 1, true, "uniform", Optional.empty()),
                new Scenario.Batch(1, 32), s.training(), Optional.empty(), 0);
    }

    private double rate(Supplier<Object> work) {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long n = 0;
        long t0 = System.nanoTime();
        Object sink = null;
        while (System.nanoTime() < deadline) {
            sink = work.get();
            n++;
        }
        double elapsed = (System.nanoTime() - t0) / 1e9;
        if (sink == null) throw new IllegalStateException("no work done");
        return n / elapsed;
    }
}
