package dev.pipelab.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.pipelab.plan.Search;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.scenario.ScenarioLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Absurd sizes are refused by every command at once, with the size, the limit and the way out, exit 2; {@code --force}
 * passes the guard; the shipped scenarios are not touched by it.
 */
class SizeGuardTest {

    /** The guard's own work is arithmetic on the scenario's numbers: far below this even for d = 1e9. */
    private static final Duration AT_ONCE = Duration.ofSeconds(1);

    private static Scenario quickstart(String... sets) {
        return ScenarioLoader.load(CliTest.SCENARIOS.resolve("quickstart.yaml"), List.of(sets));
    }

    private static CliTest.Result refused(String... args) {
        CliTest.Result r = assertTimeoutPreemptively(AT_ONCE.multipliedBy(30), () -> CliTest.run(args)); // start-up and loading included
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(2);
        assertThat(r.err().strip().lines()).as("one line, no stack trace").hasSize(1);
        return r;
    }

    @Test
    void planRefusesAHugeDataDegreeAndAHugeMicroBatchCount() {
        assertThat(refused("plan", CliTest.scenario("quickstart.yaml"), "--set", "parallelism.data=1000000000").err()).isEqualTo(
                "pipelab plan: 4,000,000,000 devices (p=4 x d=1,000,000,000 x t=1) are more than pipelab plans (2,147,483,647); "
                        + "use a smaller d, or pipelab goodput\n");
        assertThat(refused("schedule", CliTest.scenario("quickstart.yaml"), "--set", "batch.microBatches=1000000000").err())
                .startsWith("pipelab schedule: 12,000,000,000 actions in one step");
        assertThat(refused("plan", CliTest.scenario("quickstart.yaml"), "--set", "batch.microBatches=1000000000").err())
                .startsWith("pipelab plan: 12,000,000,000 actions in one step (p=4 x v=1 x m=1,000,000,000 x 3) take about 17 h")
                .contains("more than the limit of 10,000,000 actions; use a smaller m or p, or --force");
    }

    @Test
    void runRefusesTooManyActorsTooManyStepsAndTooManyMicroBatches() {
        assertThat(refused("run", CliTest.scenario("quickstart.yaml"), "--no-dashboard", "--set", "parallelism.data=1000000").err())
                .startsWith("pipelab run: 4,000,000 stage actors (p=4 x d=1,000,000) need about ")
                .contains("of heap, more than this JVM's ").endsWith("or --force\n");
        assertThat(refused("run", CliTest.scenario("quickstart.yaml"), "--no-dashboard", "--steps", "1000000000").err())
                .startsWith("pipelab run: 1,000,000,000 steps of 4 stage actors (p=4 x d=1, m=6) move about 144,000,000,000 messages")
                .contains("use fewer steps (--steps)").contains("pipelab goodput for long horizons");
        assertThat(refused("run", CliTest.scenario("quickstart.yaml"), "--no-dashboard", "--set", "batch.microBatches=100000000").err())
                .startsWith("pipelab run: 1,200,000,000 actions in one step");
    }

    @Test
    void searchAndSweepRefuseAtOnce() {
        assertThat(refused("search", CliTest.scenario("search-3072.yaml"), "--set", "parallelism.data=1000000").err())
                .startsWith("pipelab search: ").contains("candidate plans of").contains("or --force");
        assertThat(refused("search", CliTest.scenario("search-3072.yaml"), "--set", "batch.microBatches=1000000000").err())
                .startsWith("pipelab search: 24,000,000,000 actions in one step (p=8 x v=1 x m=1,000,000,000 x 3)");
        assertThat(refused("sweep", CliTest.scenario("depth-sweep.yaml"), "--over", "batch.microBatches=32,64,100000000").err())
                .startsWith("pipelab sweep: 2,400,000,000 actions in one step (p=8 x v=1 x m=100,000,000 x 3)");
    }

    @Test
    void theGuardItselfIsArithmeticEvenForAbsurdSizes() {
        for (String set : List.of("parallelism.data=1000000000", "batch.microBatches=1000000000", "parallelism.data=2000000")) {
            Scenario s = quickstart(set);
            assertTimeoutPreemptively(AT_ONCE, () -> {
                catchThrowableOfType(UserException.class, () -> SizeGuard.plan("plan", s, false));
                catchThrowableOfType(UserException.class, () -> SizeGuard.search(s, false));
                catchThrowableOfType(UserException.class, () -> SizeGuard.run(s, Integer.MAX_VALUE, "spans", true, true, false));
            });
        }
    }

    @Test
    void forcePassesTheGuard() {
        Scenario huge = quickstart("parallelism.data=1000000000", "batch.microBatches=1000000000");
        assertThatCode(() -> SizeGuard.plan("plan", huge, true)).doesNotThrowAnyException();
        assertThatCode(() -> SizeGuard.search(huge, true)).doesNotThrowAnyException();
        assertThatCode(() -> SizeGuard.sweep(List.of(huge), true)).doesNotThrowAnyException();
        assertThatCode(() -> SizeGuard.run(huge, Integer.MAX_VALUE, "spans", true, true, true)).doesNotThrowAnyException();
        // the option reaches each command's guard: a normal plan with --force prints what it prints without
        CliTest.Result forced = CliTest.run("plan", CliTest.scenario("quickstart.yaml"), "--force");
        CliTest.Result plain = CliTest.run("plan", CliTest.scenario("quickstart.yaml"));
        assertThat(forced.code()).as(forced.err()).isZero();
        assertThat(forced.out()).isEqualTo(plain.out());
        CliTest.Result sweep = CliTest.run("sweep", CliTest.scenario("depth-sweep.yaml"), "--over", "batch.microBatches=32,64", "--force");
        assertThat(sweep.code()).as(sweep.err()).isZero();
    }

    @Test
    void aWallClockRunIsNotRefusedForItsLengthButAClusterRunNotForThisHeap() {
        Scenario longRun = quickstart();
        assertThatCode(() -> SizeGuard.run(longRun, 1_000_000_000, "auto", false, true, false)).doesNotThrowAnyException();
        Scenario wide = quickstart("parallelism.data=1000000");
        assertThat(catchThrowableOfType(UserException.class, () -> SizeGuard.run(wide, 1, "steps", true, true, false)).line())
                .contains("of heap");
        // in a cluster run the stages live in the workers; the ring's messages still take too long
        assertThat(catchThrowableOfType(UserException.class, () -> SizeGuard.run(wide, 1, "steps", true, false, false)).line())
                .contains("messages").doesNotContain("heap");
    }

    @Test
    void spansOfAHugeRunCountAgainstTheHeap() {
        Scenario s = quickstart("parallelism.data=64");
        assertThatCode(() -> SizeGuard.run(s, 20, "steps", true, true, false)).doesNotThrowAnyException();
        assertThat(catchThrowableOfType(UserException.class, () -> SizeGuard.run(s, 2_000_000, "spans", false, true, false)).line())
                .contains("spans need about").contains("the steps telemetry level");
    }

    @Test
    void theActorRuntimesScaleTargetsPass() {
        // issue 14: Llama 3 405B's layout (t=8, p=16, d=128: 16,384 GPUs) for 100 steps, and d=1,024 (131,072 GPUs) for one
        List<String> layout = List.of("model.preset=llama3-405b", "hardware.device=h100-80gb", "hardware.devicesPerNode=8",
                "parallelism.tensor=8", "parallelism.pipeline=16", "batch.microBatchSize=1", "batch.microBatches=16");
        Scenario gpus16k = ScenarioLoader.load(CliTest.SCENARIOS.resolve("search-3072.yaml"),
                java.util.stream.Stream.concat(layout.stream(), java.util.stream.Stream.of("parallelism.data=128")).toList());
        Scenario gpus131k = ScenarioLoader.load(CliTest.SCENARIOS.resolve("search-3072.yaml"),
                java.util.stream.Stream.concat(layout.stream(), java.util.stream.Stream.of("parallelism.data=1024")).toList());
        long eightGb = 8L << 30; // the heap bound for the larger one, as PIPELAB_JAVA_OPTS=-Xmx8g gives it
        assertThatCode(() -> SizeGuard.run(gpus16k, 100, "steps", true, true, eightGb)).doesNotThrowAnyException();
        assertThatCode(() -> SizeGuard.run(gpus131k, 1, "steps", true, true, eightGb)).doesNotThrowAnyException();
        assertThat(catchThrowableOfType(UserException.class, () -> SizeGuard.run(gpus131k, 1, "steps", true, true, 1L << 30)).line())
                .contains("16,384 stage actors (p=16 x d=1,024) need about 1.3 GB of heap, more than this JVM's 1.1 GB");
        // but not a week of steps of it
        assertThat(catchThrowableOfType(UserException.class, () -> SizeGuard.run(gpus16k, 100_000, "steps", true, true, eightGb)).line())
                .startsWith("pipelab run: 100,000 steps of 2,048 stage actors (p=16 x d=128, m=16)");
    }

    @Test
    void theSearchEstimateCountsTheSearchsOwnCandidates() {
        for (String name : List.of("search-3072.yaml", "quickstart.yaml", "depth-sweep.yaml")) {
            Scenario s = ScenarioLoader.load(CliTest.SCENARIOS.resolve(name), List.of());
            Scenario.Parallelism par = s.parallelism();
            long devices = (long) par.pipeline() * par.data() * par.tensor();
            long global = (long) s.batch().microBatchSize() * s.batch().microBatches() * par.data();
            assertThat(SizeGuard.searchSize(s, devices, global).candidates()).as(name).isEqualTo(Search.candidates(s).size());
        }
        // and at most zb-1p and zb-2p with each recompute policy for each finalist shape
        Scenario quickstart = ScenarioLoader.load(CliTest.SCENARIOS.resolve("quickstart.yaml"), List.of());
        assertThat(SizeGuard.searchSize(quickstart, 4, 12).automatic()).isEqualTo(2L * 3 * Search.FINALISTS)
                .isGreaterThanOrEqualTo(Search.run(quickstart).automatic());
        Scenario oneDevice = ScenarioLoader.load(CliTest.SCENARIOS.resolve("quickstart.yaml"), List.of("parallelism.pipeline=1"));
        assertThat(SizeGuard.searchSize(oneDevice, 1, 12).automatic()).isZero();
    }

    @Test
    void everyShippedScenarioPassesTheGuardOfEveryCommand() throws Exception {
        try (var files = java.nio.file.Files.list(CliTest.SCENARIOS)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
                Scenario s = ScenarioLoader.load(f, List.of());
                assertThatCode(() -> {
                    SizeGuard.plan("plan", s, false);
                    SizeGuard.search(s, false);
                    SizeGuard.run(s, s.training().steps(), s.telemetry().level(), true, true, false);
                }).as(f.toString()).doesNotThrowAnyException();
            }
        }
    }
}
