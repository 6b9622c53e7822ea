package dev.pipelab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.model.DevicePresets;
import dev.pipelab.model.Recompute;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.Planner;
import dev.pipelab.plan.PlanningException;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.scenario.ScenarioError;
import dev.pipelab.scenario.ScenarioException;
import dev.pipelab.scenario.ScenarioLoader;
import dev.pipelab.schedule.DeadlockException;
import dev.pipelab.schedule.Schedules;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every valid scenario runs to the end. From a fixed seed, scenarios are drawn over schedules × p × m × d × v ×
 * recomputation × link buffers × emulated/real numerics (with tensor degree, micro-batch size, partition, devices
 * per node and sequence parallelism; emulated runs also draw the device and its efficiency, real runs train a
 * transformer or an MLP of drawn depth). Each is checked as
 * {@code pipelab run} checks it before it starts (the schema, the cross-key rules, the planner, the analytic step)
 * and kept only when accepted. Each kept scenario runs through the CLI in-process ({@code pipelab run FILE --set
 * ... --steps 2 --no-dashboard --quiet --out DIR}) and must exit 0; an emulated run's every step time must equal
 * the analytic evaluator's to the bit, and a real run's losses and weights file must equal those of the sequential
 * reference ({@code --sequential}) to the bit.
 *
 * <p>Sized for about a minute on two cores: {@value #DEFAULT_RUNS} scenarios of 2 steps each (a third of them
 * real, each with its reference run). The schedule and the numerics cycle with the scenario's index, so every
 * schedule meets both numerics; everything else is drawn. Replay or widen with {@code -Dpipelab.sweep.seed=S}
 * and {@code -Dpipelab.sweep.runs=N}; every failure names the seed, the draw and the command line to rerun.
 */
class ValidScenarioSweepTest {

    static final long DEFAULT_SEED = 20_261_202L;
    static final int DEFAULT_RUNS = 24;
    static final long SEED = Long.getLong("pipelab.sweep.seed", DEFAULT_SEED);
    static final int RUNS = Integer.getInteger("pipelab.sweep.runs", DEFAULT_RUNS);
    /** Draws the schema or the planner may reject per kept scenario before the sweep calls itself broken. */
    static final int MAX_DRAWS_PER_RUN = 40;
    static final int STEPS = 2;

    /** Every generated schedule (a custom one needs a file of its own), so a new generator is swept at once. */
    static final List<String> SCHEDULES = Schedules.NAMES;
    static final List<Recompute> RECOMPUTE = List.of(Recompute.values());
    static final List<String> DEVICES = DevicePresets.names();
    static final String EMULATED = "quickstart.yaml";
    static final String REAL = "tiny-transformer-real.yaml";

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path outputs;

    /** One drawn scenario: a shipped file and the overrides a user would type. */
    record Draw(int draw, String file, List<String> sets, boolean real) {

        List<String> runArgs(Path out, String... extra) {
            List<String> args = new ArrayList<>(List.of("run", CliTest.scenario(file)));
            sets.forEach(s -> args.addAll(List.of("--set", s)));
            args.addAll(List.of("--steps", String.valueOf(STEPS), "--no-dashboard", "--quiet", "--out", out.toString()));
            args.addAll(List.of(extra));
            return args;
        }

        /** What to type at the repository's root to see this run for oneself. */
        String commandLine() {
            StringBuilder b = new StringBuilder("./pipelab run scenarios/").append(file);
            sets.forEach(s -> b.append(" --set ").append(s));
            return b.append(" --steps ").append(STEPS).append(" --no-dashboard").toString();
        }

        /** The context of every assertion: enough to replay the failure. */
        String context() {
            return "seed " + SEED + " (-Dpipelab.sweep.seed=" + SEED + "), draw " + draw + ": " + commandLine();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyValidScenarioRunsAndMatchesItsReference() {
        SplittableRandom random = new SplittableRandom(SEED);
        List<Draw> kept = new ArrayList<>();
        Map<String, Integer> rejections = new LinkedHashMap<>();
        int draws = 0;
        while (kept.size() < RUNS && draws < RUNS * MAX_DRAWS_PER_RUN) {
            int index = kept.size();
            Draw d = draw(random, draws++, SCHEDULES.get(index % SCHEDULES.size()), index % 3 == 2);
            Optional<String> problem = rejection(d);
            if (problem.isEmpty()) kept.add(d);
            else rejections.merge(problem.get(), 1, Integer::sum);
        }
        assertThat(kept).as("seed %d: valid scenarios among %d draws (rejected: %s)", SEED, draws, rejections)
                .hasSize(RUNS);
        return kept.stream().map(d -> DynamicTest.dynamicTest(d.commandLine(), () -> run(d)));
    }

    /**
     * A scenario drawn without regard to the rules that tie keys together (v against the schedule, m against p for
     * interleaving, stages against layers, buffers against the schedule): the run's own checks decide what is valid.
     */
    static Draw draw(SplittableRandom random, int index, String schedule, boolean real) {
        int p = 1 + random.nextInt(4);
        int v = 1 + random.nextInt(3);
        int m = 1 + random.nextInt(8);
        int d = 1 + random.nextInt(3);
        List<String> sets = new ArrayList<>(List.of(
                "training.schedule=" + schedule,
                "parallelism.pipeline=" + p,
                "parallelism.virtualStages=" + v,
                "batch.microBatches=" + m,
                "parallelism.data=" + d,
                "training.recompute=" + RECOMPUTE.get(random.nextInt(RECOMPUTE.size())).scenarioName()));
        int buffer = random.nextInt(4);
        if (buffer > 0) sets.add("training.linkBuffer=" + buffer);
        if (random.nextInt(3) == 0) sets.add("parallelism.tensor=2");
        if (random.nextBoolean()) sets.add("batch.microBatchSize=" + (1 + random.nextInt(4)));
        if (random.nextBoolean()) sets.add("parallelism.partition=balanced");
        // one, two or four devices per node: pipeline and ring links within a node, across nodes, or both
        if (random.nextBoolean()) sets.add("hardware.devicesPerNode=" + (1 << random.nextInt(3)));
        if (random.nextInt(4) == 0) sets.add("parallelism.sequenceParallel=true");
        if (real) {
            // the planner's model and the trained model have the same depth, so p·v meets both alike
            int layers = 4 + 2 * random.nextInt(3);
            sets.add("model.layers=" + layers);
            sets.add("real.model.layers=" + layers);
            if (random.nextBoolean()) {
                sets.add("real.model.kind=mlp");
                sets.add("real.data.kind=teacher");
            }
        } else {
            // other devices and efficiencies give other action times, which the runtime must still add up exactly
            if (random.nextBoolean()) sets.add("hardware.device=" + DEVICES.get(random.nextInt(DEVICES.size())));
            if (random.nextBoolean()) sets.add("hardware.efficiency=0." + (10 + random.nextInt(90)));
        }
        return new Draw(index, real ? REAL : EMULATED, sets, real);
    }

    /**
     * Why {@code pipelab run} would refuse the scenario before running it (its first problem), or empty when valid.
     * The checks are the run's own, in its order: the schema and cross-key rules, the planner, the analytic step
     * (a link buffer too small for the schedule deadlocks there, and the run stops with exit 2 and the stuck
     * actions), and the real section.
     */
    static Optional<String> rejection(Draw d) {
        try {
            Scenario scenario = ScenarioLoader.load(CliTest.SCENARIOS.resolve(d.file()), d.sets());
            Plan plan = Planner.plan(scenario);
            plan.evaluate();
            if (scenario.realNumerics()) RealScenario.setup(scenario, plan);
            return Optional.empty();
        } catch (ScenarioException e) {
            ScenarioError first = e.errors().get(0);
            return Optional.of(first.path() + ": " + first.message());
        } catch (PlanningException e) {
            return Optional.of(e.problems().get(0));
        } catch (DeadlockException e) {
            return Optional.of("deadlock: " + e.stuckActions().get(0));
        } catch (UserException e) {
            return Optional.of(e.getMessage());
        }
    }

    static void run(Draw d) throws IOException {
        Path out = outputs.resolve("draw-" + d.draw());
        CliTest.Result r = CliTest.run(d.runArgs(out).toArray(String[]::new));
        assertThat(r.code()).as("%s%nexit code; stderr:%n%s", d.context(), r.err()).isZero();
        JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
        assertThat(report.path("completedSteps").asInt()).as("%s%ncompleted steps", d.context()).isEqualTo(STEPS);
        if (d.real()) assertSameAsSequential(d, out, report);
        else assertSameAsEvaluator(d, report);
    }

    /** Virtual time: the runtime's step is the evaluator's step, bit for bit, in every step. */
    static void assertSameAsEvaluator(Draw d, JsonNode report) {
        double analytic = Planner.plan(ScenarioLoader.load(CliTest.SCENARIOS.resolve(d.file()), d.sets())).evaluate()
                .stepTimeSeconds();
        JsonNode steps = report.path("steps");
        assertThat(steps.size()).as("%s%nsteps in report.json", d.context()).isEqualTo(STEPS);
        for (JsonNode step : steps) {
            double seconds = step.path("stepTimeSeconds").doubleValue();
            assertThat(Double.doubleToRawLongBits(seconds))
                    .as("%s%nstep %d: runtime %s s, evaluator %s s", d.context(), step.path("step").asInt(), seconds, analytic)
                    .isEqualTo(Double.doubleToRawLongBits(analytic));
        }
    }

    /** Real numerics: the actors' losses and weights are the sequential reference's, bit for bit. */
    static void assertSameAsSequential(Draw d, Path out, JsonNode report) throws IOException {
        Path reference = outputs.resolve("draw-" + d.draw() + "-sequential");
        CliTest.Result s = CliTest.run(d.runArgs(reference, "--sequential").toArray(String[]::new));
        assertThat(s.code()).as("%s --sequential%nexit code; stderr:%n%s", d.context(), s.err()).isZero();
        JsonNode expected = JSON.readTree(reference.resolve("report.json").toFile()).path("loss");
        JsonNode losses = report.path("loss");
        assertThat(losses.size()).as("%s%nlosses in report.json", d.context()).isEqualTo(STEPS);
        for (int i = 0; i < STEPS; i++) {
            assertThat(Double.doubleToRawLongBits(losses.get(i).doubleValue()))
                    .as("%s%nloss bits of step %d: actors %s, sequential %s", d.context(), i, losses.get(i), expected.get(i))
                    .isEqualTo(Double.doubleToRawLongBits(expected.get(i).doubleValue()));
        }
        assertThat(Files.readAllBytes(out.resolve("weights.plwt")))
                .as("%s%nweights.plwt of the actors and of the sequential reference", d.context())
                .isEqualTo(Files.readAllBytes(reference.resolve("weights.plwt")));
    }
}
